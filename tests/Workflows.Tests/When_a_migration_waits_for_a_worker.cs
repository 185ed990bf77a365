using FsCheck.Xunit;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.Workflows.Tests.When_workers_and_operators_act_in_any_order;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Property (no silent wait): whatever worker reports, duplicates, operator commands and timeouts reach a migration, in
/// whatever order, every transition into a state that waits for a worker leaves exactly one step timer armed in the
/// database, the one the saga holds; pre-copy may also have its completion timer; a state that waits for no worker
/// (queued, ended) has none. The test plays the workers, as in <see cref="When_workers_and_operators_act_in_any_order"/>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_migration_waits_for_a_worker
{
    [Property(MaxTest = 10, Arbitrary = [typeof(Scripts)])]
    public async Task Should_have_exactly_one_timer_armed_in_every_waiting_state(Step[][] batch)
    {
        var timers = new TimerWatch();
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(
            admission: limits => (limits.MaxOutboundPerHost, limits.MaxInboundPerHost, limits.MaxPerCluster) = (100, 100, 100),
            timeouts: timeouts =>
            {
                timeouts.Prepare = timeouts.Switchover = timeouts.Cleanup = timeouts.Rollback = timeouts.Locate = TimeSpan.FromMilliseconds(300);
                timeouts.MaxAttempts = 2;
            },
            store: options => options.Listeners.Add(timers));
        // Hosts no worker serves: only the script answers, and the timers do the rest.
        var commands = batch.Select((_, i) => InMemoryOrchestrator.NewMigration($"vm-timer-{i}", source: "prop-src", target: "prop-dst",
            policy: new MigrationPolicy(ProgressTimeoutSeconds: 1, AllowPostCopy: i % 2 == 0)) with { Strategy = MigrationStrategies.Hybrid }).ToList();

        await Task.WhenAll(commands.Select((command, i) => Play(orchestrator, command, batch[i])));

        foreach (var command in commands)
        {
            var script = string.Join(",", batch[commands.IndexOf(command)]);
            await Eventually.Get(() => orchestrator.Summary(command.MigrationId), s => s is { IsTerminal: true },
                $"migration {command.MigrationId} to end ({script})", TimeSpan.FromSeconds(60));
            var entered = timers.Entered(command.MigrationId);
            var path = $"{script} => {string.Join(",", entered)}";
            entered.ShouldContain(s => TimerWatch.Waiting.Contains(s), path);
            timers.Violations(command.MigrationId).ShouldBeEmpty(path);
        }
    }

    /// <summary>
    /// The path the issue saw stall: a rollback reaches DestroyingTarget, and the target's worker never answers. Its
    /// timer must be armed on entry and the migration must end by it.
    /// </summary>
    [Fact]
    public async Task Should_arm_a_timer_when_a_rollback_waits_for_the_target()
    {
        var timers = new TimerWatch();
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(
            timeouts: timeouts =>
            {
                // The script answers pre-flight and prepare itself, once it has read the admission from the summary
                // (a projection, late by hundreds of milliseconds on a busy machine): their timer must not beat it. Only
                // the rollback's wait is the subject here.
                timeouts.Prepare = TimeSpan.FromSeconds(10);
                timeouts.Switchover = timeouts.Cleanup = timeouts.Rollback = timeouts.Locate = TimeSpan.FromMilliseconds(300);
                timeouts.MaxAttempts = 2;
            },
            store: options => options.Listeners.Add(timers));
        var command = InMemoryOrchestrator.NewMigration("vm-timer-destroy", source: "prop-src", target: "prop-dst",
            policy: new MigrationPolicy(ProgressTimeoutSeconds: 30));

        await Play(orchestrator, command, [Step.PreflightPassed, Step.TargetPrepared, Step.Round, Step.Cancel, Step.Aborted]);

        var summary = await orchestrator.WaitForEnd(command.MigrationId);
        var entered = timers.Entered(command.MigrationId);
        entered.ShouldContain(MigrationStates.DestroyingTarget);
        timers.Violations(command.MigrationId).ShouldBeEmpty(string.Join(",", entered));
        summary!.State.ShouldBe(MigrationStates.Cancelled);
    }
}
