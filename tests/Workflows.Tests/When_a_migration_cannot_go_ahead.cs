using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

[Trait("Category", "Integration")]
public sealed class When_a_migration_cannot_go_ahead
{
    [Fact]
    public async Task Should_reject_an_invalid_command_with_its_reason_and_keep_working()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var sameHosts = InMemoryOrchestrator.NewMigration("vm-same", source: "host-a", target: "host-a");
        var unknownHypervisor = InMemoryOrchestrator.NewMigration("vm-unknown", hypervisor: "vmware");
        var good = InMemoryOrchestrator.NewMigration("vm-good");

        await orchestrator.Start(sameHosts);
        await orchestrator.Start(unknownHypervisor);
        await orchestrator.Start(good);

        var rejected = await orchestrator.WaitForEnd(sameHosts.MigrationId);
        rejected!.State.ShouldBe(MigrationStates.Rejected);
        rejected.RejectionCode.ShouldBe(RejectionCodes.InvalidCommand);
        rejected.Reason.ShouldNotBeNull().ShouldContain("two different hosts");
        (await orchestrator.WaitForEnd(unknownHypervisor.MigrationId))!.Reason.ShouldNotBeNull().ShouldContain("'vmware' is unknown");
        (await orchestrator.WaitForEnd(good.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
        (await orchestrator.Events(sameHosts.MigrationId)).Select(e => e.GetType()).ShouldBe([typeof(MigrationRejected), typeof(MigrationStateChanged)]);
    }

    [Fact]
    public async Task Should_reject_a_second_migration_of_a_busy_vm_and_cancel_the_first_on_request()
    {
        // Real time at a slow link: the first migration is still copying when the second and the cancel arrive.
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim => sim.RealTimeFactor = 1);
        var first = InMemoryOrchestrator.NewMigration("vm-busy", policy: new MigrationPolicy(MaxBandwidthMiBps: 16));
        var second = InMemoryOrchestrator.NewMigration("vm-busy", source: "host-a", target: "host-c");

        await orchestrator.Start(first);
        await orchestrator.WaitFor(first.MigrationId, s => s.State == MigrationStates.PreCopying, "the first migration to copy");
        await orchestrator.Start(second);

        var rejected = await orchestrator.WaitForEnd(second.MigrationId);
        rejected!.State.ShouldBe(MigrationStates.Rejected);
        rejected.RejectionCode.ShouldBe(RejectionCodes.VmBusy);
        rejected.Reason.ShouldNotBeNull().ShouldContain(first.MigrationId.ToString());

        await orchestrator.Send(QueueNames.CancelMigration, new CancelMigration(first.MigrationId, "operator changed their mind", "alice"));
        var cancelled = await orchestrator.WaitForEnd(first.MigrationId);
        cancelled!.State.ShouldBe(MigrationStates.Cancelled);
        cancelled.RunningOn.ShouldBe("host-a");
        cancelled.Reason.ShouldBe("operator changed their mind");
        orchestrator.Fleet.WhereIs("vm-busy").ShouldBe("host-a");
        orchestrator.Fleet.IsTargetPrepared(first.MigrationId, "host-b").ShouldBeFalse();

        // The VM is free again once its migration has ended.
        var third = InMemoryOrchestrator.NewMigration("vm-busy");
        await orchestrator.Start(third);
        (await orchestrator.WaitForEnd(third.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
    }

    [Fact]
    public async Task Should_roll_back_when_a_step_fails_and_leave_the_vm_on_its_source()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(sim => sim.Faults.Add(new SimFault(MigrationSteps.Transfer, "vm-faulty")));
        var command = InMemoryOrchestrator.NewMigration("vm-faulty");

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.State.ShouldBe(MigrationStates.RolledBack);
        summary.Reason.ShouldNotBeNull().ShouldContain("Injected fault");
        summary.RunningOn.ShouldBe("host-a");
        orchestrator.Fleet.WhereIs("vm-faulty").ShouldBe("host-a");
        var kinds = (await orchestrator.Events(command.MigrationId)).Select(e => e.GetType()).ToList();
        kinds.ShouldContain(typeof(MigrationStepFailed));
        kinds.TakeLast(7).ShouldBe([typeof(MigrationRollingBack), typeof(MigrationStateChanged), typeof(MigrationAborted), typeof(MigrationStateChanged),
            typeof(TargetDestroyed), typeof(MigrationRolledBack), typeof(MigrationStateChanged)]);
    }

    [Fact]
    public async Task Should_refuse_to_cancel_a_completed_migration_and_say_why()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync();
        var command = InMemoryOrchestrator.NewMigration("vm-done");
        await orchestrator.Start(command);
        await orchestrator.WaitForEnd(command.MigrationId);

        await orchestrator.Send(QueueNames.CancelMigration, new CancelMigration(command.MigrationId, "too late", "bob"));

        var refusal = await Eventually.Get(async () => (await orchestrator.Events(command.MigrationId)).OfType<CommandRefused>().FirstOrDefault(),
            r => r is not null, "the cancel to be refused");
        refusal!.Reason.ShouldContain("Completed");
        (await orchestrator.Summary(command.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
    }
}
