using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

/// <summary>Each worker command has one factory (<see cref="WorkerCommands"/>); what it carries decides which host acts and under which epoch.</summary>
public sealed class When_the_saga_commands_a_worker
{
    static readonly MigrationState Saga = new()
    {
        CorrelationId = Guid.NewGuid(), Epoch = 3, VmId = "vm-1", SourceHost = "host-a", TargetHost = "host-b", Hypervisor = "qemu",
        Strategy = "hybrid", IncomingUri = "tcp:host-b:49152", VmDefinition = "<domain/>",
        Policy = EffectivePolicy.Defaults with { MaxDowntimeMs = 400, AllowPostCopy = true, MultifdChannels = 4, XbzrleCacheMiB = 64, RequireEncryption = true },
        Convergence = ConvergenceState.Start(100),
    };

    [Fact]
    public void Should_fence_every_command_with_the_migration_s_current_epoch()
    {
        IWorkerCommand[] commands =
        [
            Saga.CheckMigration(), Saga.PrepareTarget(), Saga.BeginTransfer(), Saga.AdjustTransfer(200), Saga.SwitchToPostCopy(),
            Saga.CleanupSource(), Saga.AbortTransfer(), Saga.DestroyTarget(), Saga.LocateVm(Saga.TargetHost),
        ];

        commands.ShouldAllBe(command => command.MigrationId == Saga.CorrelationId && command.Epoch == 3);
    }

    [Fact]
    public void Should_have_the_source_undo_and_clean_up_and_the_target_remove_its_destination()
    {
        Saga.AbortTransfer().Host.ShouldBe("host-a");
        Saga.CleanupSource().Host.ShouldBe("host-a");
        Saga.SwitchToPostCopy().Host.ShouldBe("host-a");
        Saga.AdjustTransfer(200).Host.ShouldBe("host-a");
        Saga.DestroyTarget().Host.ShouldBe("host-b");
    }

    [Fact]
    public void Should_begin_the_transfer_at_the_ramp_s_first_step_with_the_policy_in_force()
    {
        var begin = Saga.BeginTransfer();

        (begin.MaxDowntimeMs, begin.MaxBandwidthMiBps, begin.AllowPostCopy, begin.AllowAutoConverge).ShouldBe((100, 1024, true, true));
        (begin.MultifdChannels, begin.XbzrleCacheMiB, begin.IncomingUri).ShouldBe((4, 64, "tcp:host-b:49152"));
        Saga.PrepareTarget().ShouldSatisfyAllConditions(p => p.MultifdChannels.ShouldBe(4), p => p.VmDefinition.ShouldBe("<domain/>"));
        Saga.CheckMigration().MaxDowntimeMs.ShouldBe(400);
    }

    [Fact]
    public void Should_tell_both_hosts_workers_that_the_stream_must_be_encrypted() =>
        (Saga.CheckMigration().RequireEncryption, Saga.PrepareTarget().RequireEncryption, Saga.BeginTransfer().RequireEncryption)
            .ShouldBe((true, true, true));

    [Fact]
    public void Should_leave_the_throttle_as_it_is_unless_asked() =>
        (Saga.AdjustTransfer(200).ThrottlePercent, Saga.AdjustTransfer(200, 30).ThrottlePercent).ShouldBe((null, 30));
}
