using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Workflows.Tests;

[Trait("Category", "Integration")]
public sealed class When_a_migration_converges
{
    [Fact]
    public async Task Should_complete_with_every_step_recorded_in_order()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var command = InMemoryOrchestrator.NewMigration("vm-converges");

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.Completed);
        summary.RunningOn.ShouldBe("host-b");
        summary.Rounds.ShouldBeGreaterThan(0);
        summary.DowntimeMs.ShouldNotBeNull().ShouldBeLessThanOrEqualTo(300);
        orchestrator.Fleet.WhereIs("vm-converges").ShouldBe("host-b");

        var events = await orchestrator.Events(command.MigrationId);
        var kinds = events.Where(e => e is not MigrationStateChanged).Select(e => e.GetType()).ToList();
        kinds.Take(5).ShouldBe([typeof(MigrationRequested), typeof(MigrationAdmitted), typeof(PreflightPassed), typeof(MigrationPredicted),
            typeof(TargetPrepared)]);
        // Each round with what the policy did about it and the forecast made again after it.
        var duringTransfer = summary.Rounds + events.OfType<MigrationPolicyAdjusted>().Count() + events.OfType<MigrationForecastRefreshed>().Count();
        kinds.Skip(5).Take(duringTransfer).ShouldAllBe(t => t == typeof(PreCopyRoundCompleted) || t == typeof(MigrationPolicyAdjusted) || t == typeof(MigrationForecastRefreshed));
        events.OfType<MigrationForecastRefreshed>().Select(r => r.AfterRound).ShouldBe(Enumerable.Range(1, summary.Rounds));
        kinds.Skip(5 + duringTransfer).ShouldBe([typeof(StopAndCopyCompleted), typeof(SwitchoverCompleted),
            typeof(SourceCleanedUp), typeof(MigrationCompleted)]);
        events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ShouldBe(Enumerable.Range(1, summary.Rounds));
        // Each transition ends with the state change it records, the one the summary's state comes from.
        var changes = events.OfType<MigrationStateChanged>().ToList();
        changes.Select(c => c.ToState).ShouldBe([MigrationStates.Checking, MigrationStates.Preparing, MigrationStates.PreCopying,
            MigrationStates.SwitchingOver, MigrationStates.CleaningUp, MigrationStates.Completed]);
        changes.Select(c => c.FromState).ShouldBe([null, .. changes.SkipLast(1).Select(c => c.ToState)]);
        events[^2].ShouldBeOfType<MigrationCompleted>();
        events[^1].ShouldBe(changes[^1]);
        var verdict = await ChainVerifier.Verify(orchestrator.Store, command.MigrationId);
        verdict.Intact.ShouldBeTrue(verdict.Problem);
        verdict.Events.ShouldBe(events.Count);
    }

    [Fact]
    public async Task Should_start_one_migration_when_the_command_arrives_twice()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var command = InMemoryOrchestrator.NewMigration("vm-twice");

        await orchestrator.Start(command);
        await orchestrator.Start(command);
        await orchestrator.WaitForEnd(command.MigrationId);
        // A third copy after the end changes nothing either.
        await orchestrator.Start(command);

        var summary = await orchestrator.WaitForEnd(command.MigrationId);
        summary!.State.ShouldBe(MigrationStates.Completed);
        var events = await orchestrator.Events(command.MigrationId);
        events.OfType<MigrationRequested>().Count().ShouldBe(1);
        events.OfType<MigrationCompleted>().Count().ShouldBe(1);
    }
}
