using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// A guest that rewrites 1 GiB at 900 MiB/s over a 256 MiB/s link never converges by itself. The sim runs at a small
/// fraction of real time, so the orchestrator reacts between passes as it would against a real hypervisor.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_migration_does_not_converge
{
    const string Vm = "vm-hot";
    static readonly SimVm Hot = new(Vm, 4L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 900L << 20);

    static Task<InMemoryOrchestrator> Start(double realTimeFactor = 0.005) => InMemoryOrchestrator.StartAsync(sim =>
    {
        sim.RealTimeFactor = realTimeFactor;
        sim.Vms[Vm] = Hot;
    });

    static StartMigration Migration(string strategy, bool allowPostCopy, bool allowAutoConverge = false) =>
        InMemoryOrchestrator.NewMigration(Vm, policy: new MigrationPolicy(MaxBandwidthMiBps: 256, AllowPostCopy: allowPostCopy,
            AllowAutoConverge: allowAutoConverge)) with { Strategy = strategy };

    [Fact]
    public async Task Should_switch_a_hybrid_migration_to_post_copy_and_complete()
    {
        await using var orchestrator = await Start();
        var command = Migration(MigrationStrategies.Hybrid, allowPostCopy: true);

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        summary.RunningOn.ShouldBe("host-b");
        summary.PostCopyPageFaults.ShouldBeGreaterThan(0);
        var events = await orchestrator.Events(command.MigrationId);
        events.OfType<MigrationPolicyAdjusted>().ShouldContain(a => a.Action == "SwitchToPostCopy");
        events.OfType<PostCopyStarted>().ShouldHaveSingleItem();
        events.OfType<PostCopyCompleted>().ShouldHaveSingleItem();
        events.OfType<SwitchoverCompleted>().ShouldBeEmpty();
        orchestrator.Fleet.WhereIs(Vm).ShouldBe("host-b");
    }

    [Fact]
    public async Task Should_be_rejected_before_anything_is_done_when_the_prediction_says_it_cannot_converge()
    {
        await using var orchestrator = await Start();
        var command = Migration(MigrationStrategies.PreCopy, allowPostCopy: false);

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.PreflightFailed);
        summary.Reason.ShouldNotBeNull().ShouldContain("Predicted downtime");
        summary.PredictedDowntimeMs.ShouldNotBeNull().ShouldBeGreaterThan(300);
        (await orchestrator.Events(command.MigrationId)).OfType<TargetPrepared>().ShouldBeEmpty();
        orchestrator.Fleet.WhereIs(Vm).ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_roll_back_when_post_copy_is_forbidden_and_leave_the_vm_on_its_source()
    {
        // Calm when checked, hot once under way: the prediction passes, the migration does not converge.
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            sim.RealTimeFactor = 0.005;
            sim.Vms["vm-bursty"] = new SimVm("vm-bursty", 4L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 10L << 20)
            {
                BurstAfterSeconds = 10,
                BurstDirtyRateBytesPerSecond = 900L << 20,
            };
        });
        var command = InMemoryOrchestrator.NewMigration("vm-bursty", policy: new MigrationPolicy(MaxBandwidthMiBps: 256, AllowPostCopy: false,
            AllowAutoConverge: false)) with { Strategy = MigrationStrategies.PreCopy };

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("stalled");
        summary.RunningOn.ShouldBe("host-a");
        orchestrator.Fleet.WhereIs("vm-bursty").ShouldBe("host-a");
        var adjustments = (await orchestrator.Events(command.MigrationId)).OfType<MigrationPolicyAdjusted>().ToList();
        adjustments.ShouldContain(a => a.Action == "RaiseDowntime" && a.DowntimeLimitMs == 300);
        adjustments[^1].Action.ShouldBe("Abort");
    }

    [Fact]
    public async Task Should_force_complete_through_post_copy_when_an_operator_asks()
    {
        // Slow enough that the operator's command lands long before the policy would give up by itself.
        await using var orchestrator = await Start(realTimeFactor: 0.02);
        var command = Migration(MigrationStrategies.PreCopy, allowPostCopy: true);

        await orchestrator.Start(command);
        await orchestrator.WaitFor(command.MigrationId, s => s.Rounds >= 1, "the first pass");
        await orchestrator.Send(QueueNames.ForceCompleteMigration, new ForceCompleteMigration(command.MigrationId, "carol"));
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        var events = await orchestrator.Events(command.MigrationId);
        events.OfType<MigrationPolicyAdjusted>().ShouldContain(a => a.Action == "SwitchToPostCopy" && a.Reason.Contains("force-complete requested by carol"));
        events.OfType<PostCopyStarted>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Should_switch_to_post_copy_when_the_completion_timeout_runs_out()
    {
        // A pre-copy strategy that never converges by itself: only the completion timeout (1 s per GiB) ends it.
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            sim.RealTimeFactor = 0.05;
            sim.Vms["vm-endless"] = new SimVm("vm-endless", 1L << 30, WorkingSetBytes: 512L << 20, DirtyRateBytesPerSecond: 900L << 20);
        });
        var command = InMemoryOrchestrator.NewMigration("vm-endless", policy: new MigrationPolicy(MaxBandwidthMiBps: 256,
            AllowPostCopy: true, AllowAutoConverge: true, CompletionTimeoutSecondsPerGiB: 1)) with { Strategy = MigrationStrategies.PreCopy };

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
        var events = await orchestrator.Events(command.MigrationId);
        events.OfType<MigrationPolicyAdjusted>().ShouldContain(a => a.Action == "SwitchToPostCopy" && a.Reason.StartsWith("completion timeout"));
        events.OfType<PostCopyStarted>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Should_refuse_to_cancel_once_post_copy_has_started()
    {
        // Slower, so the post-copy phase lasts long enough to send a cancel into it.
        await using var orchestrator = await Start(realTimeFactor: 0.05);
        var command = Migration(MigrationStrategies.PostCopy, allowPostCopy: true) with
        {
            Policy = new MigrationPolicy(MaxBandwidthMiBps: 64, AllowPostCopy: true),
        };

        await orchestrator.Start(command);
        await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.PostCopying, "post-copy to start");
        await orchestrator.Send(QueueNames.CancelMigration, new CancelMigration(command.MigrationId, "changed my mind", "dave"));
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed);
        var refusal = (await orchestrator.Events(command.MigrationId)).OfType<CommandRefused>().ShouldHaveSingleItem();
        refusal.Reason.ShouldContain("Post-copy has started");
        orchestrator.Fleet.WhereIs(Vm).ShouldBe("host-b");
    }
}
