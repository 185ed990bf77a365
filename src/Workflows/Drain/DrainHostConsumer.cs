using Marten;
using Marten.Exceptions;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Drain;

/// <summary>
/// Carries out a <see cref="DrainHost"/>: asks the drained host's worker what runs there and the targets' workers how
/// much room they have, records the plan on the drain's stream, and starts one migration per VM that can move. The
/// admission limits decide how many run at once; the drain's progress is read from its migrations' summaries, beside the
/// forecast recorded with the plan.
/// </summary>
public sealed class DrainHostConsumer(IDocumentSession session, IClientFactory clients, IOptions<HostLinkOptions> links, IOptions<AdmissionOptions> admission,
    ILogger<DrainHostConsumer> logger) : IConsumer<DrainHost>
{
    public async Task Consume(ConsumeContext<DrainHost> context)
    {
        var drain = context.Message;
        if (drain.DrainId == Guid.Empty)
        {
            logger.LogWarning("Drain of {Host} ignored: it has no DrainId", InputRules.Clip(drain.Host));
            return;
        }

        var planned = await StoredPlan(drain.DrainId, context.CancellationToken);
        if (planned is null)
        {
            var requested = Validate(drain) is null
                ? new HostDrainRequested(drain.DrainId, drain.Host, drain.Hypervisor, drain.Targets, drain.RequestedBy, DateTimeOffset.UtcNow)
                // What a refused drain asked is kept clipped: no NUL or 200 KB name reaches the event store.
                : new HostDrainRequested(drain.DrainId, InputRules.Clip(drain.Host) ?? string.Empty, InputRules.Clip(drain.Hypervisor) ?? string.Empty,
                    [.. (drain.Targets ?? []).Take(InputRules.MaxTargets).Select(target => InputRules.Clip(target) ?? string.Empty)],
                    InputRules.Clip(drain.RequestedBy), DateTimeOffset.UtcNow);
            var outcome = await PlanAsync(drain, context.CancellationToken);
            try
            {
                session.Events.StartStream(drain.DrainId, requested, outcome);
                await session.SaveChangesAsync(context.CancellationToken);
            }
            catch (ExistingStreamIdCollisionException)
            {
                // Another instance planned the same drain first: its plan is the one that counts.
                planned = await StoredPlan(drain.DrainId, context.CancellationToken);
            }
            planned ??= outcome as HostDrainPlanned;
        }

        await PublishStream(context, drain.DrainId);
        if (planned is null)
            return;
        // Starting is idempotent (the migration ids are fixed by the plan): a redelivered drain sends the same commands.
        var endpoint = await context.GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        foreach (var move in planned.Moves)
            await endpoint.Send(new StartMigration(move.MigrationId, move.VmId, drain.Host, move.TargetHost, drain.Hypervisor,
                RequestedBy: $"drain {drain.DrainId:N} by {InputRules.Clip(drain.RequestedBy, InputRules.RequestedByMaxLength - 50) ?? "unknown"}"), context.CancellationToken);
    }

    /// <summary>
    /// Publishes the drain's events for other services, each with its stored event's id as the message id: a redelivered
    /// drain publishes them again with the same ids, so a subscriber can tell a repeat from a new event.
    /// </summary>
    async Task PublishStream(ConsumeContext context, Guid drainId)
    {
        foreach (var stored in await session.Events.FetchStreamAsync(drainId, token: context.CancellationToken))
        {
            if (PublicContract.Event(stored.EventType) is null)
                continue;
            var id = stored.Id;
            await context.Publish(stored.Data, stored.EventType, Pipe.Execute<PublishContext>(publish =>
            {
                publish.MessageId = id;
                publish.CorrelationId = drainId;
            }), context.CancellationToken);
        }
    }

    async Task<HostDrainPlanned?> StoredPlan(Guid drainId, CancellationToken cancellationToken)
    {
        var events = await session.Events.FetchStreamAsync(drainId, token: cancellationToken);
        return events.Select(e => e.Data).OfType<HostDrainPlanned>().FirstOrDefault();
    }

    async Task<object> PlanAsync(DrainHost drain, CancellationToken cancellationToken)
    {
        if (Validate(drain) is { } refusal)
            return new HostDrainFailed(drain.DrainId, refusal.Problem, DateTimeOffset.UtcNow);

        var (source, problem) = await Describe(drain.Hypervisor, drain.Host, cancellationToken);
        if (source is null)
            return new HostDrainFailed(drain.DrainId, $"{problem}: nothing was moved. Check the host's worker, then drain again.", DateTimeOffset.UtcNow);

        var answers = await Task.WhenAll(drain.Targets.Select(async target => (Target: target, Answer: await Describe(drain.Hypervisor, target, cancellationToken))));
        var targets = answers.Where(a => a.Answer.Description is not null).Select(a => a.Answer.Description!).ToList();
        var unanswered = answers.Where(a => a.Answer.Description is null).Select(a => a.Target).ToList();
        var (moves, unmovable) = DrainPlanner.Plan(drain.DrainId, source, targets, unanswered);
        // Recorded with the plan, so that the drain's progress shows what was predicted beside what happens.
        var forecast = await DrainForecaster.Forecast(session, drain.Host, moves, links.Value, admission.Value, cancellationToken);
        return new HostDrainPlanned(drain.DrainId, moves, unmovable, DateTimeOffset.UtcNow, Forecast: forecast);
    }

    Task<(HostDescription? Description, string? Problem)> Describe(string hypervisor, string host, CancellationToken cancellationToken) =>
        HostDescriber.Describe(clients, logger, hypervisor, host, cancellationToken);

    /// <summary>Why the drain cannot be planned as asked, with the member it concerns; null when it can.</summary>
    public static (string Member, string Problem)? Validate(DrainHost drain)
    {
        if (InputRules.NameProblem(nameof(DrainHost.Host), drain.Host) is { } host)
            return ("host", host);
        if (!HypervisorKinds.IsKnown(drain.Hypervisor))
            return ("hypervisor", $"Hypervisor {InputRules.Show(drain.Hypervisor)} is not one of {string.Join(", ", HypervisorKinds.All)}.");
        if (drain.Targets is not { Count: > 0 })
            return ("targets", "Targets is required: the hosts the VMs may go to.");
        if (drain.Targets.Count > InputRules.MaxTargets)
            return ("targets", $"Targets has {drain.Targets.Count} hosts; at most {InputRules.MaxTargets} are allowed.");
        if (drain.Targets.Select(target => InputRules.NameProblem("Targets[]", target)).FirstOrDefault(p => p is not null) is { } target)
            return ("targets", target);
        if (drain.Targets.Contains(drain.Host))
            return ("targets", $"The drained host {drain.Host} cannot be one of its own targets.");
        if (InputRules.TextProblem(nameof(DrainHost.RequestedBy), drain.RequestedBy, InputRules.RequestedByMaxLength) is { } requestedBy)
            return ("requestedBy", requestedBy);
        return null;
    }
}
