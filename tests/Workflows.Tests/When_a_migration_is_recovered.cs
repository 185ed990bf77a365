using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Recovery by reconciliation: the workers say where the VM runs, the migration goes where that truth leads, and the
/// answers are recorded as evidence.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_migration_is_recovered
{
    [Fact]
    public async Task Should_finish_a_migration_that_failed_at_cleanup_when_the_target_runs_the_vm()
    {
        SimOptions? sim = null;
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(options =>
        {
            sim = options;
            options.Faults.Add(new SimFault(MigrationSteps.CleanupSource, "vm-stuck-cleanup"));
        });
        var command = InMemoryOrchestrator.NewMigration("vm-stuck-cleanup");
        await orchestrator.Start(command);
        (await orchestrator.WaitForEnd(command.MigrationId))!.State.ShouldBe(MigrationStates.Failed);
        (await AttentionFor(orchestrator, command.MigrationId, e => e is not null)).Kind.ShouldBe(AttentionKinds.Failed);

        // The operator fixes the source host, then asks for recovery.
        sim!.Faults.Clear();
        await orchestrator.Send(QueueNames.RecoverMigration, new RecoverMigration(command.MigrationId, "olga"));
        var summary = await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.Completed, "the recovery to finish the migration");

        summary!.RunningOn.ShouldBe("host-b");
        summary.Recoveries.ShouldBe(1);
        var events = await orchestrator.Events(command.MigrationId);
        summary.RecoveryVerdict.ShouldBe(RecoveryVerdicts.Finish);
        var started = events.OfType<MigrationRecoveryStarted>().ShouldHaveSingleItem();
        started.RecoveredFrom.ShouldBe(MigrationStates.Failed);
        started.Epoch.ShouldBe(2);
        started.RequestedBy.ShouldBe("olga");
        events.OfType<VmLocated>().Select(l => (l.Host, l.Presence)).OrderBy(l => l.Host)
            .ShouldBe([("host-a", VmPresences.Absent), ("host-b", VmPresences.Running)]);
        var verdict = events.OfType<MigrationReconciled>().ShouldHaveSingleItem();
        verdict.Evidence.ShouldContain("host-b (target): running");
        events.OfType<SourceCleanedUp>().ShouldHaveSingleItem();
        // Recovered, it leaves the operators' attention queue.
        await AttentionFor(orchestrator, command.MigrationId, e => e is null);
    }

    static async Task<AttentionEntry> AttentionFor(InMemoryOrchestrator orchestrator, Guid migrationId, Func<AttentionEntry?, bool> done) =>
        (await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return (await session.Attention(DateTimeOffset.UtcNow, TimeSpan.FromHours(1))).SingleOrDefault(e => e.MigrationId == migrationId);
        }, done, "the attention queue"))!;

    [Fact]
    public async Task Should_roll_back_when_the_vm_runs_on_its_source_even_if_the_target_never_answers()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(timeouts: timeouts =>
        {
            timeouts.Prepare = TimeSpan.FromMinutes(10);
            timeouts.Locate = TimeSpan.FromMilliseconds(500);
            timeouts.Rollback = TimeSpan.FromMilliseconds(300);
            timeouts.MaxAttempts = 1;
        });
        // No worker serves host-gone: the migration waits in Preparing, and the truth query gets no answer from there.
        var command = InMemoryOrchestrator.NewMigration("vm-half-prepared", target: "host-gone");
        await orchestrator.Start(command);
        await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.Preparing, "the migration to wait for its target");

        await orchestrator.Send(QueueNames.RecoverMigration, new RecoverMigration(command.MigrationId, "olga"));
        // A late answer to an earlier question (epoch 1; the recovery asks with epoch 2) is not evidence.
        await orchestrator.Send(QueueNames.MigrationSaga, new VmLocated(command.MigrationId, "host-gone", command.VmId, VmPresences.Running,
            "an answer from before the recovery", DateTimeOffset.UtcNow, Epoch: 1), command.MigrationId);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.RunningOn.ShouldBe("host-a");
        summary.Reason.ShouldNotBeNull().ShouldContain("host-gone (target): unknown, the worker of host-gone did not answer");
        (await orchestrator.Events(command.MigrationId)).OfType<VmLocated>().ShouldAllBe(l => l.Epoch == 2);
        orchestrator.Fleet.WhereIs("vm-half-prepared").ShouldBe("host-a");
        var verdict = (await orchestrator.Events(command.MigrationId)).OfType<MigrationReconciled>().ShouldHaveSingleItem();
        verdict.Verdict.ShouldBe(RecoveryVerdicts.RollBack);
        verdict.RecoveredFrom.ShouldBe(MigrationStates.Preparing);
    }

    [Fact]
    public async Task Should_leave_a_migration_the_hosts_agree_with_alone_when_an_orchestrator_starts()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(SlowVm("vm-fine-after-restart"));
        var command = InMemoryOrchestrator.NewMigration("vm-fine-after-restart", policy: new MigrationPolicy(MaxDowntimeMs: 60000, MaxBandwidthMiBps: 1));
        await orchestrator.Start(command);
        await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.PreCopying, "the transfer to begin");

        await orchestrator.Send(QueueNames.MigrationSaga, new ReconcileMigration(command.MigrationId, "a test"), command.MigrationId);
        var check = await Eventually.Get(async () => (await orchestrator.Events(command.MigrationId)).OfType<MigrationReconciled>().SingleOrDefault(),
            r => r is not null, "the start-up check");
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        check!.Verdict.ShouldBe(RecoveryVerdicts.Continue);
        check.RecoveredFrom.ShouldBe(MigrationStates.PreCopying);
        summary!.State.ShouldBe(MigrationStates.Completed);
        summary.Recoveries.ShouldBe(0);
    }

    [Fact]
    public async Task Should_finish_a_migration_whose_switchover_report_was_lost_when_an_orchestrator_starts()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(SlowVm("vm-lost-report"));
        var command = InMemoryOrchestrator.NewMigration("vm-lost-report", policy: new MigrationPolicy(MaxDowntimeMs: 60000, MaxBandwidthMiBps: 1));
        await orchestrator.Start(command);
        // After the first pass the transfer surely runs on the worker, with several passes still to go.
        await orchestrator.WaitFor(command.MigrationId, s => s.Rounds >= 1, "the first pass");

        // The hypervisors switched over but the report never reached the workflow (lost in a crash): the fault only a
        // simulated fleet can produce on demand.
        orchestrator.Fleet.SwitchOver(command.MigrationId, "vm-lost-report", "host-b");
        await orchestrator.Send(QueueNames.MigrationSaga, new ReconcileMigration(command.MigrationId, "a test"), command.MigrationId);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed);
        summary.RunningOn.ShouldBe("host-b");
        var events = await orchestrator.Events(command.MigrationId);
        summary.RecoveryVerdict.ShouldBe(RecoveryVerdicts.Finish);
        events.OfType<MigrationRecoveryStarted>().ShouldHaveSingleItem().RecoveredFrom.ShouldBe(MigrationStates.PreCopying);
        events.OfType<MigrationReconciled>().ShouldHaveSingleItem().Evidence.ShouldContain("host-b (target): running");
    }

    /// <summary>
    /// A 4 GiB VM with a 2 GiB working set dirtied at half the 1 MiB/s link: its first pass takes about four seconds of
    /// wall time and each later one about half the one before.
    /// </summary>
    static Action<SimOptions> SlowVm(string vmId) => sim =>
    {
        sim.RealTimeFactor = 0.001;
        sim.Vms[vmId] = new SimVm(vmId, 4L << 30, WorkingSetBytes: 2L << 30, DirtyRateBytesPerSecond: 512L << 10);
    };

    [Fact]
    public async Task Should_refuse_to_recover_a_migration_that_completed_and_say_why()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var command = InMemoryOrchestrator.NewMigration("vm-fine");
        await orchestrator.Start(command);
        (await orchestrator.WaitForEnd(command.MigrationId))!.State.ShouldBe(MigrationStates.Completed);

        await orchestrator.Send(QueueNames.RecoverMigration, new RecoverMigration(command.MigrationId, "olga"));
        var refusal = await Eventually.Get(async () => (await orchestrator.Events(command.MigrationId)).OfType<CommandRefused>().SingleOrDefault(),
            r => r is not null, "the refusal");

        refusal!.Command.ShouldBe("recover");
        refusal.Reason.ShouldContain("ended Completed");
        (await orchestrator.Summary(command.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
    }
}
