using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

/// <summary>Invariant 1: a redelivered or duplicated input has exactly one effect (the saga's inbox, by message id).</summary>
[Trait("Category", "Integration")]
public sealed class When_every_message_to_the_saga_arrives_twice
{
    [Fact]
    public async Task Should_record_each_event_once_and_send_each_command_once()
    {
        // Passes spaced in time, so each duplicate lands while the migration still waits for more of the same.
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            sim.RealTimeFactor = 0.01;
            sim.Vms["vm-twice-over"] = new SimVm("vm-twice-over", 2L << 30, WorkingSetBytes: 256L << 20, DirtyRateBytesPerSecond: 100L << 20);
        });
        var duplicator = new Duplicator();
        orchestrator.Bus.ConnectConsumeObserver(duplicator);
        var command = InMemoryOrchestrator.NewMigration("vm-twice-over", policy: new MigrationPolicy(MaxBandwidthMiBps: 256));

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed);
        duplicator.Duplicated.ShouldBeGreaterThanOrEqualTo(5);
        var events = await orchestrator.Events(command.MigrationId);
        events.GroupBy(e => e.GetType())
            .Where(g => g.Key != typeof(PreCopyRoundCompleted) && g.Key != typeof(MigrationStateChanged) && g.Key != typeof(MigrationForecastRefreshed))
            .ShouldAllBe(g => g.Count() == 1);
        // One refreshed forecast per round, however often the round's report came.
        events.OfType<MigrationForecastRefreshed>().Select(r => r.AfterRound).ShouldBe(events.OfType<PreCopyRoundCompleted>().Select(r => r.Round));
        events.OfType<MigrationStateChanged>().Select(c => c.ToState).ShouldBeUnique();
        events.OfType<PreCopyRoundCompleted>().Count().ShouldBeGreaterThan(1);
        events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ShouldBeUnique();
        foreach (var required in new[] { nameof(PrepareTarget), nameof(BeginTransfer), nameof(CleanupSource) })
            duplicator.CommandsReceived.Keys.ShouldContain(required);
        duplicator.CommandsReceived.ShouldAllBe(received => received.Value == 1, string.Join(", ", duplicator.CommandsReceived));
    }

    /// <summary>Sends every message the saga consumes a second time, same message id; counts the commands workers receive.</summary>
    sealed class Duplicator : IConsumeObserver
    {
        static readonly Uri Saga = new($"queue:{QueueNames.MigrationSaga}");
        int _duplicated;

        public int Duplicated => _duplicated;

        public ConcurrentDictionary<string, int> CommandsReceived { get; } = new();

        public async Task PostConsume<T>(ConsumeContext<T> context)
            where T : class
        {
            if (typeof(T).IsAssignableTo(typeof(IWorkerCommand)))
                CommandsReceived.AddOrUpdate(typeof(T).Name, 1, (_, n) => n + 1);
            if (context.ReceiveContext.InputAddress?.AbsolutePath.EndsWith(QueueNames.MigrationSaga, StringComparison.Ordinal) != true
                || context.Headers.Get<string>("duplicate") is not null)
                return;
            Interlocked.Increment(ref _duplicated);
            await context.Send(Saga, context.Message, send =>
            {
                send.MessageId = context.MessageId;
                send.CorrelationId = context.CorrelationId;
                send.Headers.Set("duplicate", "yes");
            });
        }

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;
        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
