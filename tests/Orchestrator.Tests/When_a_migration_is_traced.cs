using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// One migration is one trace: the activity of the service that sends the command is the root, and the saga's
/// transitions, the commands they send through the outbox to the workers, and the workers' reports back all carry its
/// trace id across RabbitMQ (serve and the worker on the real broker; the activities caught as an OpenTelemetry
/// exporter would receive them).
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_a_migration_is_traced(RabbitMqOrchestrator orchestrator)
{
    const string TestSource = "Orchestrator.Tests.Tracing";

    [Fact]
    public async Task Should_span_the_saga_and_both_workers_with_the_senders_trace()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is TestSource or "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource(TestSource);
        var id = NewId.NextGuid();
        ActivityTraceId traceId;
        using (var root = source.StartActivity("placement-service starts a migration")!)
        {
            traceId = root.TraceId;
            var endpoint = await orchestrator.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
            await endpoint.Send(new StartMigration(id, $"vm-traced-{id:N}"[..24], "e2e-a", "e2e-b", HypervisorKinds.Sim));
        }

        (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);
        // Every hop of the migration, by where it was consumed: the intake, the saga, the target's worker (prepare),
        // the source's worker (transfer, clean-up).
        string[] hops = ["orchestrator.start-migration", "orchestrator.migration-state", "worker.sim.e2e-b", "worker.sim.e2e-a"];
        var trace = await Eventually.Get(() => Task.FromResult(stopped.Where(a => a.TraceId == traceId).ToList()),
            spans => hops.All(hop => spans.Any(s => s.Kind == ActivityKind.Consumer && Names(s).Contains(hop))),
            "the trace to reach every hop", TimeSpan.FromSeconds(10));
        // The saga consumed the worker's reports in the same trace: more than the command itself.
        trace.Count(s => s.Kind == ActivityKind.Consumer && Names(s).Contains("orchestrator.migration-state")).ShouldBeGreaterThanOrEqualTo(4,
            string.Join("\n", trace.Select(Names)));
    }

    /// <summary>What an activity says of where it ran: its name and its tags.</summary>
    static string Names(Activity activity) =>
        $"{activity.DisplayName} {string.Join(" ", activity.TagObjects.Select(t => $"{t.Key}={t.Value}"))}";
}
