using MassTransit;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// A numbered report whose predecessor has not been applied yet waits for it: it fails with
/// <see cref="ReportOutOfOrderException"/>, which the saga endpoint retries (releasing the migration's partition in
/// between, so the missing report can pass). After <see cref="MaxWaits"/> retries it is applied anyway: a report lost for
/// good (a worker that died between two sends) must not hold the migration forever.
/// </summary>
public sealed class ReportOrder<TReport> : IFilter<SagaConsumeContext<MigrationState, TReport>>
    where TReport : class, ISequencedReport
{
    public const int MaxWaits = 10;

    public Task Send(SagaConsumeContext<MigrationState, TReport> context, IPipe<SagaConsumeContext<MigrationState, TReport>> next)
    {
        if (context.Message.Sequence is { } sequence)
        {
            var saga = context.Saga;
            if (sequence > saga.LastReportSequence + 1 && context.GetRetryAttempt() < MaxWaits)
                throw new ReportOutOfOrderException(saga.CorrelationId, typeof(TReport).Name, sequence, saga.LastReportSequence);
            // A transfer sent again (a redelivery, a worker restarted) numbers its reports from 1 again.
            saga.LastReportSequence = sequence;
        }
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("reportOrder");
}

public sealed class ReportOutOfOrderException(Guid migrationId, string report, int sequence, int last)
    : Exception($"{report} #{sequence} of migration {migrationId} came before #{last + 1}: it waits for it.");
