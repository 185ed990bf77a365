using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Property: whatever worker reports, duplicates, operator commands and timeouts reach a migration, in whatever order,
/// it ends in a terminal state consistent with the invariants. No worker runs here: the test plays the workers, and
/// lies as often as it tells the truth.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_workers_and_operators_act_in_any_order
{
    public enum Step
    {
        PreflightPassed, PreflightFailed, TargetPrepared, Round, StopAndCopy, Switchover, PostCopyStarted, PostCopyCompleted, SourceCleanedUp,
        StepFailed, PolicyStepFailed, Aborted, TargetDestroyed, Cancel, ForceComplete, Duplicate,
        Recover, Reconcile, SourceRuns, SourceAbsent, TargetRuns, TargetAbsent,
    }

    public static class Scripts
    {
        public static Arbitrary<Step[][]> Arbitrary() =>
            Gen.Elements(Enum.GetValues<Step>()).ArrayOf().Resize(12).ArrayOf().Where(batch => batch.Length is > 0 and <= 10).ToArbitrary();
    }

    static readonly HashSet<Type> TerminalEvents =
        [typeof(MigrationCompleted), typeof(MigrationRolledBack), typeof(MigrationCancelled), typeof(MigrationFailed), typeof(MigrationRejected)];

    [Property(MaxTest = 5, Arbitrary = [typeof(Scripts)])]
    public async Task Should_end_every_migration_in_a_consistent_terminal_state(Step[][] batch)
    {
        var agreement = new StateAgreement();
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(
            admission: limits => (limits.MaxOutboundPerHost, limits.MaxInboundPerHost, limits.MaxPerCluster) = (100, 100, 100),
            timeouts: timeouts =>
            {
                timeouts.Prepare = timeouts.Switchover = timeouts.Cleanup = timeouts.Rollback = timeouts.Locate = TimeSpan.FromMilliseconds(300);
                timeouts.MaxAttempts = 2;
            },
            store: options => options.Listeners.Add(agreement));
        // Hosts no worker serves: only the script answers.
        var commands = batch.Select((_, i) => InMemoryOrchestrator.NewMigration($"vm-prop-{i}", source: "prop-src", target: "prop-dst",
            policy: new MigrationPolicy(ProgressTimeoutSeconds: 1, AllowPostCopy: i % 2 == 0)) with { Strategy = MigrationStrategies.Hybrid }).ToList();

        await Task.WhenAll(commands.Select((command, i) => Play(orchestrator, command, batch[i])));

        foreach (var command in commands)
        {
            var summary = await Eventually.Get(() => orchestrator.Summary(command.MigrationId), s => s is { IsTerminal: true },
                $"migration {command.MigrationId} to end", TimeSpan.FromSeconds(60));
            var events = (await orchestrator.Events(command.MigrationId)).ToList();
            var kinds = events.Select(e => e.GetType()).ToHashSet();
            var script = string.Join(",", batch[commands.IndexOf(command)]) + " => " + string.Join(",", events.Select(e => e.GetType().Name));

            // A recovery may take a Failed migration up again: one terminal event per incarnation, and after the last one
            // only refusals are recorded (commands that came too late, each with its reason).
            var recoveredFromFailed = events.OfType<MigrationRecoveryStarted>().Count(r => r.RecoveredFrom == MigrationStates.Failed);
            events.Count(e => TerminalEvents.Contains(e.GetType())).ShouldBe(1 + recoveredFromFailed, script);
            var lastEnd = events.FindLastIndex(e => TerminalEvents.Contains(e.GetType()));
            events.ElementAtOrDefault(lastEnd + 1).ShouldBeOfType<MigrationStateChanged>(script).ToState.ShouldBe(summary!.State, script);
            // Besides, a completed migration records a stop-and-copy report that comes last of all as evidence (the
            // downtime it measured; the state machine's "a report that comes after a later one"), and nothing else.
            events.Skip(lastEnd + 2).ShouldAllBe(e => e is CommandRefused || (e is StopAndCopyCompleted && summary!.State == MigrationStates.Completed), script);
            // The recorded state changes chain: each starts where the one before it ended.
            var changes = events.OfType<MigrationStateChanged>().ToList();
            changes.Select(c => c.FromState).ShouldBe([null, .. changes.SkipLast(1).Select(c => c.ToState)], script);
            // What the workflow's own reports or, after a recovery, the hosts' answers justify.
            var lastVerdict = events.OfType<MigrationReconciled>().LastOrDefault(r => r.Verdict != RecoveryVerdicts.Continue);
            var sinceVerdict = lastVerdict is null ? events : events.Skip(events.IndexOf(lastVerdict) + 1);
            var moved = sinceVerdict.Any(e => e is SwitchoverCompleted or PostCopyCompleted);
            if (summary.State == MigrationStates.Completed)
                (moved || lastVerdict?.Verdict == RecoveryVerdicts.Finish).ShouldBeTrue(script);
            if (summary.State is MigrationStates.RolledBack or MigrationStates.Cancelled)
            {
                if (lastVerdict is null)
                {
                    kinds.ShouldNotContain(typeof(SwitchoverCompleted), script);
                    kinds.ShouldNotContain(typeof(PostCopyStarted), script);
                }
                else
                    lastVerdict.Verdict.ShouldBe(RecoveryVerdicts.RollBack, script);
                summary.RunningOn.ShouldBe("prop-src", script);
            }
            if (summary.State == MigrationStates.Rejected)
                kinds.ShouldNotContain(typeof(TargetPrepared), script);
            if (summary.State == MigrationStates.Failed)
                summary.Reason.ShouldNotBeNullOrWhiteSpace(script);

            // The saga and the summary agreed on the state after every transition, not only at the end.
            agreement.Transitions(command.MigrationId).ShouldBeGreaterThan(0, script);
            agreement.Disagreements(command.MigrationId).ShouldBeEmpty(script);
            (await ChainVerifier.Verify(orchestrator.Store, command.MigrationId)).Intact.ShouldBeTrue(script);
            await using var session = orchestrator.Store.QuerySession();
            (await session.LoadAsync<VmLease>(command.VmId)).ShouldBeNull(script);
            (await session.LoadAsync<AdmissionSlot>(command.MigrationId)).ShouldBeNull(script);
        }
    }

    internal static async Task Play(InMemoryOrchestrator orchestrator, StartMigration command, Step[] script)
    {
        var id = command.MigrationId;
        await orchestrator.Start(command);
        await orchestrator.WaitFor(id, s => s.State != MigrationStates.Requested, "the migration to be admitted");
        var round = 0;
        object? previous = null;
        foreach (var step in script)
        {
            var now = DateTimeOffset.UtcNow;
            object message = step switch
            {
                Step.PreflightPassed => new PreflightPassed(id, 2L << 30, 120, now),
                Step.PreflightFailed => new PreflightFailed(id, "scripted refusal", 9000, now),
                Step.TargetPrepared => new TargetPrepared(id, "prop-dst", 1, now),
                Step.Round => new PreCopyRoundCompleted(id, ++round, 1L << 30, Math.Max(0, (512L << 20) - (round << 24)), 100L << 20, 200L << 20, 300 - round * 20, now),
                Step.StopAndCopy => new StopAndCopyCompleted(id, 42, 1 << 20, now),
                Step.Switchover => new SwitchoverCompleted(id, "prop-dst", 2L << 30, now),
                Step.PostCopyStarted => new PostCopyStarted(id, "prop-dst", 1 << 20, now),
                Step.PostCopyCompleted => new PostCopyCompleted(id, "prop-dst", 2L << 30, 10, now),
                Step.SourceCleanedUp => new SourceCleanedUp(id, "prop-src", now),
                Step.StepFailed => new MigrationStepFailed(id, "Transfer", "scripted failure", "prop-src", now),
                Step.PolicyStepFailed => new MigrationStepFailed(id, "Adjust", "scripted failure", "prop-src", now),
                Step.Aborted => new MigrationAborted(id, "prop-src", now),
                Step.TargetDestroyed => new TargetDestroyed(id, "prop-dst", now),
                Step.Cancel => new CancelMigration(id, "scripted cancel", "prop"),
                Step.ForceComplete => new ForceCompleteMigration(id, "prop"),
                Step.Recover => new RecoverMigration(id, "prop"),
                Step.Reconcile => new ReconcileMigration(id, "prop"),
                Step.SourceRuns => new VmLocated(id, "prop-src", command.VmId, VmPresences.Running, "scripted", now),
                Step.SourceAbsent => new VmLocated(id, "prop-src", command.VmId, VmPresences.Absent, "scripted", now),
                Step.TargetRuns => new VmLocated(id, "prop-dst", command.VmId, VmPresences.Running, "scripted", now),
                Step.TargetAbsent => new VmLocated(id, "prop-dst", command.VmId, VmPresences.Absent, "scripted", now),
                _ => previous ?? new TargetPrepared(id, "prop-dst", 1, now),
            };
            previous = message;
            await orchestrator.Send(QueueNames.MigrationSaga, message, id);
        }
    }
}
