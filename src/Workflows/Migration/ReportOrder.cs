using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// A numbered report whose predecessor has not been applied yet waits for it: it fails with
/// <see cref="ReportOutOfOrderException"/>, which the saga endpoint retries (releasing the migration's partition in
/// between, so the missing report can pass). After <see cref="LongestWait"/> it is applied anyway: a report lost for good
/// (a worker that died between two sends) must not hold the migration. The wait is measured from the first time this
/// process saw the report (not by retry attempts, which the endpoint's nested retry policies count each their own way).
/// </summary>
public sealed class ReportOrder<TReport> : IFilter<SagaConsumeContext<MigrationState, TReport>>
    where TReport : class, ISequencedReport
{
    public static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(4);

    readonly ConcurrentDictionary<(Guid, int), DateTime> _waitingSince = new();

    public Task Send(SagaConsumeContext<MigrationState, TReport> context, IPipe<SagaConsumeContext<MigrationState, TReport>> next)
    {
        if (context.Message.Sequence is { } sequence)
        {
            var saga = context.Saga;
            var key = (saga.CorrelationId, sequence);
            if (sequence > saga.LastReportSequence + 1
                && DateTime.UtcNow - _waitingSince.GetOrAdd(key, _ => DateTime.UtcNow) < LongestWait)
                throw new ReportOutOfOrderException(saga.CorrelationId, typeof(TReport).Name, sequence, saga.LastReportSequence);
            _waitingSince.TryRemove(key, out _);
            // A transfer sent again (a redelivery, a worker restarted) numbers its reports from 1 again; a late report
            // applied after a later one does not move the mark back.
            saga.LastReportSequence = sequence == 1 ? 1 : Math.Max(saga.LastReportSequence, sequence);
        }
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("reportOrder");
}

public sealed class ReportOutOfOrderException(Guid migrationId, string report, int sequence, int last)
    : Exception($"{report} #{sequence} of migration {migrationId} came before #{last + 1}: it waits for it.");
