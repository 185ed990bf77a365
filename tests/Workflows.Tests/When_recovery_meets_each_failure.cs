using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The recovery matrix on the simulated fleet: a host dies, a worker stops answering, a link drops, at several phases;
/// the migration ends where the workflow takes it, then an operator's <c>recover</c> drives it to the end the fleet's
/// truth implies. Every case ends terminal, agreeing with where the VM really runs, never on two hosts.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_recovery_meets_each_failure
{
    public enum Failure
    {
        SourceDiesInPreCopy,
        TargetDiesInPreCopy,
        WorkerSilentInPreCopy,
        TargetWorkerSilentInPrepare,
        LinkDropsInPostCopy,
        CleanupFailsAfterSwitchover,
    }

    [Theory]
    [InlineData(Failure.SourceDiesInPreCopy, MigrationStates.Failed, null)]
    [InlineData(Failure.TargetDiesInPreCopy, MigrationStates.RolledBack, "host-a")]
    [InlineData(Failure.WorkerSilentInPreCopy, MigrationStates.RolledBack, "host-a")]
    [InlineData(Failure.TargetWorkerSilentInPrepare, MigrationStates.RolledBack, "host-a")]
    [InlineData(Failure.LinkDropsInPostCopy, MigrationStates.Failed, null)]
    [InlineData(Failure.CleanupFailsAfterSwitchover, MigrationStates.Completed, "host-b")]
    public async Task Should_end_where_the_fleet_says_the_vm_runs(Failure failure, string expected, string? runsOn)
    {
        var vm = $"vm-matrix-{failure.ToString().ToLowerInvariant()}";
        SimOptions? options = null;
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim =>
        {
            options = sim;
            // Several passes, each long enough to act in: 2 GiB with a busy 512 MiB working set on a 1 GiB/s link.
            sim.RealTimeFactor = 0.02;
            sim.Vms[vm] = new SimVm(vm, 2L << 30, WorkingSetBytes: 512L << 20, DirtyRateBytesPerSecond: 256L << 20);
            switch (failure)
            {
                case Failure.SourceDiesInPreCopy:
                    sim.HostCrashes.Add(new SimHostCrash("host-a", vm, AtRound: 1));
                    break;
                case Failure.TargetDiesInPreCopy:
                    sim.HostCrashes.Add(new SimHostCrash("host-b", vm, AtRound: 1));
                    break;
                case Failure.WorkerSilentInPreCopy:
                    sim.Silences.Add(new SimSilence(MigrationSteps.Transfer, vm, AfterRound: 1));
                    break;
                case Failure.TargetWorkerSilentInPrepare:
                    sim.Silences.Add(new SimSilence(MigrationSteps.PrepareTarget, vm));
                    break;
                case Failure.LinkDropsInPostCopy:
                    sim.LinkDrops.Add(new SimLinkDrop(vm, DuringPostCopy: true));
                    break;
                case Failure.CleanupFailsAfterSwitchover:
                    sim.Faults.Add(new SimFault(MigrationSteps.CleanupSource, vm));
                    break;
            }
        }, timeouts: timeouts =>
        {
            timeouts.Prepare = TimeSpan.FromSeconds(30);
            timeouts.Rollback = TimeSpan.FromMilliseconds(500);
            timeouts.Cleanup = TimeSpan.FromMilliseconds(500);
            timeouts.Locate = TimeSpan.FromSeconds(1);
            timeouts.MaxAttempts = 2;
        });
        var postCopy = failure == Failure.LinkDropsInPostCopy;
        var command = InMemoryOrchestrator.NewMigration(vm, policy: new MigrationPolicy(MaxDowntimeMs: postCopy ? 1 : 60_000, AllowPostCopy: postCopy))
            with { Strategy = postCopy ? MigrationStrategies.PostCopy : MigrationStrategies.PreCopy };

        await orchestrator.Start(command);
        // The failures that leave the migration waiting are where an operator steps in; the others end on their own.
        var waiting = failure switch
        {
            Failure.WorkerSilentInPreCopy => await orchestrator.WaitFor(command.MigrationId, s => s.Rounds >= 1, "the pass before the silence"),
            Failure.TargetWorkerSilentInPrepare => await orchestrator.WaitFor(command.MigrationId, s => s.State == MigrationStates.Preparing, "the silent prepare"),
            _ => await orchestrator.WaitForEnd(command.MigrationId),
        };
        if (failure == Failure.CleanupFailsAfterSwitchover)
            options!.Faults.Clear();   // the operator repairs the source host first

        await orchestrator.Send(QueueNames.RecoverMigration, new RecoverMigration(command.MigrationId, "matrix"));
        var summary = await orchestrator.WaitFor(command.MigrationId,
            s => s.IsTerminal && (s.Recoveries > 0 || s.State is MigrationStates.RolledBack or MigrationStates.Completed && waiting!.IsTerminal),
            "the recovery's end");
        // A recovery the migration refused (it had ended cleanly) leaves its refusal, which may land a moment later.
        var events = await Eventually.Get(() => orchestrator.Events(command.MigrationId),
            e => e.OfType<MigrationRecoveryStarted>().Any() || e.OfType<CommandRefused>().Any(r => r.Command == "recover"), "the recovery or its refusal");
        var history = string.Join(", ", events.Select(e => e.GetType().Name)) + $" | {summary!.Reason}";

        summary.State.ShouldBe(expected, history);
        summary.RunningOn.ShouldBe(runsOn, history);
        orchestrator.Fleet.WhereIs(vm).ShouldBe(runsOn, history);
        (orchestrator.Fleet.VmsOn("host-a").Count(v => v == vm) + orchestrator.Fleet.VmsOn("host-b").Count(v => v == vm)).ShouldBeLessThanOrEqualTo(1);
        // A recovery that ran left its evidence: both hosts' answers and a verdict; one that was refused says why.
        if (events.OfType<MigrationRecoveryStarted>().Any())
        {
            events.OfType<VmLocated>().Select(l => l.Host).Distinct().Count().ShouldBe(2, history);
            events.OfType<MigrationReconciled>().ShouldNotBeEmpty(history);
        }
        else
            events.OfType<CommandRefused>().ShouldContain(r => r.Command == "recover", history);
    }
}
