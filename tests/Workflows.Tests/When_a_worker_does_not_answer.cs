using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Liveness;

namespace Orchestrator.Workflows.Tests;

/// <summary>Invariant 2, no silent wait: a worker that never answers ends in a rollback or a failure with a reason.</summary>
[Trait("Category", "Integration")]
public sealed class When_a_worker_does_not_answer
{
    // The prepare timeout bounds the source's pre-flight answer too: at 500 ms, at 2 s and then at 5 s, a machine busy
    // with the whole suite (this class's first test also pays for the JIT) let it expire first, and a migration ended
    // Rejected before it reached the step its test is about. So it is 30 s, and 15 s in the test about that timeout (whose
    // 5 s the pre-flight answer outlasted once too, under the whole suite).
    static Task<InMemoryOrchestrator> Start(Action<SimOptions>? sim = null, int prepareMs = 30_000, TimeSpan? heartbeat = null) =>
        InMemoryOrchestrator.StartAsync(sim, timeouts: timeouts =>
        {
            timeouts.Prepare = TimeSpan.FromMilliseconds(prepareMs);
            timeouts.Rollback = TimeSpan.FromMilliseconds(300);
            timeouts.MaxAttempts = 2;
        }, worker: worker => worker.HeartbeatInterval = heartbeat ?? TimeSpan.FromMinutes(10));

    [Fact]
    public async Task Should_roll_back_when_the_target_host_never_prepares_and_say_which_host_to_check()
    {
        await using var orchestrator = await Start(prepareMs: 15_000);
        // No worker serves host-gone: its queue fills, nobody answers.
        var command = InMemoryOrchestrator.NewMigration("vm-orphan", target: "host-gone");

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("host-gone did not confirm it was prepared");
        summary.Reason.ShouldContain("check it for a leftover");
        summary.RunningOn.ShouldBe("host-a");
        var events = await orchestrator.Events(command.MigrationId);
        events.OfType<MigrationAborted>().ShouldHaveSingleItem();
        events.OfType<TargetDestroyed>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Should_cancel_a_migration_that_waits_in_preparing_and_leave_the_vm_on_its_source()
    {
        // Long enough that the cancel, not the timeout, ends the wait.
        await using var orchestrator = await Start(prepareMs: 10_000);
        var command = InMemoryOrchestrator.NewMigration("vm-waiting", target: "host-gone");

        await orchestrator.Start(command);
        await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.Preparing, "the migration to wait for its target");
        await orchestrator.Send(QueueNames.CancelMigration, new CancelMigration(command.MigrationId, "wrong target", "frank"));
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Cancelled);
        summary.Reason.ShouldNotBeNull().ShouldStartWith("wrong target");
        summary.RunningOn.ShouldBe("host-a");
        orchestrator.Fleet.WhereIs("vm-waiting").ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_let_a_slow_step_run_on_while_its_worker_sends_heartbeats()
    {
        // The same slow passes as below (2 s apart against a 1 s progress timeout), but the worker says it is alive.
        await using var orchestrator = await Start(sim =>
        {
            sim.RealTimeFactor = 0.1;
            sim.Vms["vm-slow"] = new SimVm("vm-slow", 2L << 30, WorkingSetBytes: 16L << 20, DirtyRateBytesPerSecond: 1L << 20);
        }, heartbeat: TimeSpan.FromMilliseconds(200));
        var command = InMemoryOrchestrator.NewMigration("vm-slow", policy: new MigrationPolicy(MaxBandwidthMiBps: 100, ProgressTimeoutSeconds: 1));

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        orchestrator.Fleet.WhereIs("vm-slow").ShouldBe("host-b");
        // The heartbeats went to the liveness queue, one per worker and interval, never through the saga's transactions.
        await using var session = orchestrator.Store.QuerySession();
        (await session.LoadAsync<TransferLiveness>(command.MigrationId)).ShouldNotBeNull().Host.ShouldBe("host-a");
        (await orchestrator.Events(command.MigrationId)).OfType<StepHeartbeat>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Should_roll_back_when_the_source_stops_reporting_progress()
    {
        // Each pass takes 20 s of simulated time at 0.1 of real time: 2 s between reports, against a 1 s progress timeout.
        await using var orchestrator = await Start(sim =>
        {
            sim.RealTimeFactor = 0.1;
            sim.Vms["vm-silent"] = new SimVm("vm-silent", 2L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 900L << 20);
        });
        var command = InMemoryOrchestrator.NewMigration("vm-silent", policy: new MigrationPolicy(MaxBandwidthMiBps: 100, ProgressTimeoutSeconds: 1));

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("No progress from the source host host-a for 1 s");
        orchestrator.Fleet.WhereIs("vm-silent").ShouldBe("host-a");
    }
}
