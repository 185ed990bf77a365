using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

[Trait("Category", "Integration")]
public sealed class When_more_migrations_arrive_than_the_limits_allow
{
    static readonly MigrationPolicy Slow = new(MaxBandwidthMiBps: 16);

    static Task<InMemoryOrchestrator> Start() => InMemoryOrchestrator.StartAsync(
        sim =>
        {
            sim.RealTimeFactor = 0.005;
            foreach (var vm in new[] { "q-1", "q-2", "q-3", "q-4" })
                sim.Vms[vm] = new SimVm(vm, 1L << 30, WorkingSetBytes: 16L << 20, DirtyRateBytesPerSecond: 10L << 20);
        },
        admission => admission.MaxOutboundPerHost = 1);

    [Fact]
    public async Task Should_queue_them_with_a_position_and_admit_by_priority_then_age_never_exceeding_the_limit()
    {
        await using var orchestrator = await Start();
        var first = InMemoryOrchestrator.NewMigration("q-1", target: "host-b", policy: Slow);
        var second = InMemoryOrchestrator.NewMigration("q-2", target: "host-c", policy: Slow);
        var urgent = InMemoryOrchestrator.NewMigration("q-3", target: "host-b", policy: Slow with { Priority = 5 });

        await orchestrator.Start(first);
        await orchestrator.WaitFor(first.MigrationId, s => s.State is MigrationStates.Checking or MigrationStates.Preparing or MigrationStates.PreCopying, "the first to start");
        await orchestrator.Start(second);
        await orchestrator.WaitFor(second.MigrationId, s => s.State == MigrationStates.Queued, "the second to queue");
        await orchestrator.Start(urgent);
        var queued = await orchestrator.WaitFor(urgent.MigrationId, s => s.State == MigrationStates.Queued, "the urgent one to queue");

        queued!.QueuePosition.ShouldBe(1);
        queued.QueueReason.ShouldNotBeNull().ShouldContain("source host-a");
        (await orchestrator.Summary(second.MigrationId))!.QueuePosition.ShouldBe(1);

        foreach (var id in new[] { first.MigrationId, second.MigrationId, urgent.MigrationId })
            (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);

        var spans = new List<(Guid Id, DateTimeOffset Admitted, DateTimeOffset Ended)>();
        foreach (var id in new[] { first.MigrationId, second.MigrationId, urgent.MigrationId })
        {
            var events = await orchestrator.Events(id);
            spans.Add((id, events.OfType<MigrationAdmitted>().Single().Timestamp, events.OfType<MigrationCompleted>().Single().Timestamp));
        }
        spans.Sort((a, b) => a.Admitted.CompareTo(b.Admitted));
        spans.Select(s => s.Id).ShouldBe([first.MigrationId, urgent.MigrationId, second.MigrationId]);
        for (var i = 1; i < spans.Count; i++)
            spans[i].Admitted.ShouldBeGreaterThanOrEqualTo(spans[i - 1].Ended, "two migrations out of host-a ran at once");
    }

    [Fact]
    public async Task Should_admit_equal_priorities_by_deadline_before_age()
    {
        await using var orchestrator = await Start();
        var first = InMemoryOrchestrator.NewMigration("q-1", target: "host-b", policy: Slow);
        var none = InMemoryOrchestrator.NewMigration("q-2", target: "host-c", policy: Slow);
        var later = InMemoryOrchestrator.NewMigration("q-3", target: "host-b", policy: Slow) with { Deadline = DateTimeOffset.UtcNow.AddHours(2) };
        var sooner = InMemoryOrchestrator.NewMigration("q-4", target: "host-c", policy: Slow) with { Deadline = DateTimeOffset.UtcNow.AddHours(1) };

        await orchestrator.Start(first);
        await orchestrator.WaitFor(first.MigrationId, s => s.State is MigrationStates.Checking or MigrationStates.Preparing or MigrationStates.PreCopying, "the first to start");
        foreach (var queued in new[] { none, later, sooner })
        {
            await orchestrator.Start(queued);
            await orchestrator.WaitFor(queued.MigrationId, s => s.State == MigrationStates.Queued, "it to queue");
        }

        // Placed by deadline, those without one last, however old.
        (await orchestrator.Summary(sooner.MigrationId))!.QueuePosition.ShouldBe(1);
        foreach (var id in new[] { first.MigrationId, none.MigrationId, later.MigrationId, sooner.MigrationId })
            (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);
        var admitted = new List<(Guid Id, DateTimeOffset At)>();
        foreach (var id in new[] { first.MigrationId, none.MigrationId, later.MigrationId, sooner.MigrationId })
            admitted.Add((id, (await orchestrator.Events(id)).OfType<MigrationAdmitted>().Single().Timestamp));
        admitted.OrderBy(a => a.At).Select(a => a.Id).ShouldBe([first.MigrationId, sooner.MigrationId, later.MigrationId, none.MigrationId]);
    }

    [Fact]
    public async Task Should_cancel_a_queued_migration_without_touching_any_host()
    {
        await using var orchestrator = await Start();
        var running = InMemoryOrchestrator.NewMigration("q-1", policy: Slow);
        var waiting = InMemoryOrchestrator.NewMigration("q-4", target: "host-c", policy: Slow);

        await orchestrator.Start(running);
        await orchestrator.WaitFor(running.MigrationId, s => s.State != MigrationStates.Requested, "the first to be admitted");
        await orchestrator.Start(waiting);
        await orchestrator.WaitFor(waiting.MigrationId, s => s.State == MigrationStates.Queued, "the second to queue");
        await orchestrator.Send(QueueNames.CancelMigration, new CancelMigration(waiting.MigrationId, "not needed any more", "erin"));

        var cancelled = await orchestrator.WaitForEnd(waiting.MigrationId);
        cancelled!.State.ShouldBe(MigrationStates.Cancelled);
        cancelled.RunningOn.ShouldBe("host-a");
        var kinds = (await orchestrator.Events(waiting.MigrationId)).Select(e => e.GetType()).ToList();
        kinds.ShouldBe([typeof(MigrationRequested), typeof(MigrationQueued), typeof(MigrationStateChanged), typeof(MigrationCancelled),
            typeof(MigrationStateChanged)]);
        (await orchestrator.WaitForEnd(running.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
    }
}
