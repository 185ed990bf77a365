using Marten;
using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// With the links scheduled (<see cref="HostLinkOptions.Schedule"/>), after the forecast and before any host is touched:
/// the migration takes the bandwidth its forecast needs to converge, and to end before its deadline if it has one
/// (<see cref="LinkScheduler.NeededBandwidth"/>; a VM with no history needs its policy's maximum) on every link it crosses, and its transfer's max-bandwidth becomes its share. When
/// a link cannot carry it beside the migrations already on it, it goes back to the queue with the reason, giving up its
/// slot, and is admitted again (pre-flight and all) when a migration on that link ends.
/// </summary>
public sealed class LinkGateActivity(IDocumentSession session, IOptions<AdmissionOptions> limits, IOptions<HostLinkOptions> links)
    : IStateMachineActivity<MigrationState, PreflightPassed>
{
    const double MiB = 1024 * 1024;

    public async Task Execute(BehaviorContext<MigrationState, PreflightPassed> context, IBehavior<MigrationState, PreflightPassed> next)
    {
        var saga = context.Saga;
        if (!links.Value.Schedule)
        {
            await next.Execute(context);
            return;
        }

        await AdmissionBook.Lock(session, context.CancellationToken);
        var slot = await session.LoadAsync<AdmissionSlot>(saga.CorrelationId, context.CancellationToken);
        if (slot is null)
        {
            await next.Execute(context);
            return;
        }
        if (!slot.HoldsLink)
        {
            var max = saga.Policy.MaxBandwidthMiBps * MiB;
            var behaviour = (await session.LoadAsync<VmBehaviourHistory>(saga.VmId, context.CancellationToken))?.Behaviour();
            slot.MaxBytesPerSecond = max;
            slot.NeededBytesPerSecond = behaviour is null || saga.MemoryBytes <= 0
                ? max
                : LinkScheduler.NeededBandwidth(behaviour, saga.MemoryBytes, saga.Policy, saga.Strategy, max,
                    (saga.Deadline - DateTimeOffset.UtcNow)?.TotalSeconds);
            var (problem, shares) = await AdmissionBook.TakeLinks(session, slot, links.Value, context.CancellationToken);
            if (problem is not null)
            {
                // Nothing was done to any host: back in the queue, its slot to whoever fits now.
                saga.DisarmTimer(TimerKinds.Step);
                saga.Queued = true;
                (await AdmissionBook.Requeue(session, slot, limits.Value, links.Value, context.CancellationToken)).Tell(saga);
                var queued = new MigrationQueued(saga.CorrelationId, await AdmissionBook.PositionOf(session, slot, context.CancellationToken),
                    $"waiting for bandwidth: {problem}", DateTimeOffset.UtcNow);
                saga.Record(queued);
                saga.Publish(queued);
                await next.Execute(context);
                return;
            }
            // The others on its links give up part of what was spare to it.
            new AdmissionChanges([], shares).Tell(saga);
        }

        saga.LinkShareMiBps = (int)Math.Max(1, Math.Floor(slot.GrantedBytesPerSecond / MiB));
        saga.Record(saga.PolicyAdjusted("LinkShare",
            $"max-bandwidth {saga.LinkShareMiBps} MiB/s, its share of the links it crosses "
            + $"({string.Join(", ", links.Value.LinksOf(saga.SourceHost, saga.TargetHost).Select(l => $"{l.Name} {l.BytesPerSecond / MiB:0} MiB/s"))}); "
            + $"its forecast needs {slot.NeededBytesPerSecond / MiB:0} MiB/s"));
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<MigrationState, PreflightPassed, TException> context,
        IBehavior<MigrationState, PreflightPassed> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("link-gate");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
