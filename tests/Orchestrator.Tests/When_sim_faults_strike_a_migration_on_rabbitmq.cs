using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// The workflow on the real RabbitMQ and PostgreSQL against a sim worker that injects each fault the real parts cannot
/// produce on demand: a host that dies, a link that drops, a worker that takes a command and never answers.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_sim_faults_strike_a_migration_on_rabbitmq : IClassFixture<SimFaultsOrchestrator>
{
    readonly SimFaultsOrchestrator _orchestrator;

    public When_sim_faults_strike_a_migration_on_rabbitmq(SimFaultsOrchestrator orchestrator) => _orchestrator = orchestrator;

    [Fact]
    public async Task Should_roll_back_and_keep_the_vm_on_its_source_when_the_link_drops_mid_transfer()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.LinkDropVm, "link-a", "link-b");

        var summary = await _orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary!.State}: {summary.Reason}");

        summary!.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
        summary.Reason.ShouldNotBeNull().ShouldContain("dropped during pass 2");
        summary.RunningOn.ShouldBe("link-a");
        _orchestrator.Fleet.WhereIs(SimFaultsOrchestrator.LinkDropVm).ShouldBe("link-a");
        var events = await _orchestrator.Events(id);
        events.OfType<PreCopyRoundCompleted>().ShouldHaveSingleItem();
        events.OfType<MigrationAborted>().ShouldHaveSingleItem();
        events.OfType<TargetDestroyed>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Should_fail_with_a_reason_when_the_source_host_dies_mid_transfer()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.SourceDiesVm, "dies-a", "dies-b");

        var summary = await _orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary!.State}: {summary.Reason}");

        // The VM died with its host: nothing can be rolled back, and the reason says where to look.
        summary!.State.ShouldBe(MigrationStates.Failed, summary.Reason);
        summary.Reason.ShouldNotBeNull().ShouldContain("Host 'dies-a' is down");
        summary.RunningOn.ShouldBeNull();
        _orchestrator.Fleet.WhereIs(SimFaultsOrchestrator.SourceDiesVm).ShouldBeNull();
    }

    [Fact]
    public async Task Should_end_with_a_reason_and_the_vm_on_its_source_when_the_target_host_dies_mid_transfer()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.TargetDiesVm, "dies-c", "dies-d");

        var summary = await _orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary!.State}: {summary.Reason}");

        summary!.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
        summary.Reason.ShouldNotBeNull().ShouldContain("Host 'dies-d' is down");
        summary.Reason.ShouldContain("check it for a leftover");
        summary.RunningOn.ShouldBe("dies-c");
        _orchestrator.Fleet.WhereIs(SimFaultsOrchestrator.TargetDiesVm).ShouldBe("dies-c");
        (await _orchestrator.Events(id)).OfType<MigrationAborted>().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Should_roll_back_on_the_prepare_timeout_when_the_target_worker_never_answers()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.SilentPrepareVm, "mute-a", "mute-b");

        var summary = await _orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary!.State}: {summary.Reason}");

        summary!.State.ShouldBe(MigrationStates.RolledBack, $"{summary.Reason}\n{await _orchestrator.Timeline(id)}");
        summary.Reason.ShouldNotBeNull().ShouldContain("mute-b did not confirm it was prepared within 5 s");
        summary.RunningOn.ShouldBe("mute-a");
        (await _orchestrator.Events(id)).OfType<TargetPrepared>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Should_roll_back_on_the_completion_timeout_when_the_source_worker_falls_silent_mid_transfer()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.SilentTransferVm, "mute-a", "mute-b",
            new MigrationPolicy(MaxDowntimeMs: 50, MaxBandwidthMiBps: 1024, AllowPostCopy: false, CompletionTimeoutSecondsPerGiB: 2));

        var summary = await _orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine($"{summary!.State}: {summary.Reason}");

        summary!.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
        summary.Reason.ShouldNotBeNull().ShouldContain("did not complete within the completion timeout of 2 s");
        summary.RunningOn.ShouldBe("mute-a");
        _orchestrator.Fleet.WhereIs(SimFaultsOrchestrator.SilentTransferVm).ShouldBe("mute-a");
        (await _orchestrator.Events(id)).OfType<PreCopyRoundCompleted>().ShouldHaveSingleItem();
    }

    /// <summary>
    /// A transfer whose hypervisor hangs before its first pass while the worker process lives on: the worker heart-beats
    /// whatever the driver does, so the progress timeout is re-armed for ever; the completion timeout, armed as the
    /// transfer begins from the memory size the pre-flight check reported, ends it.
    /// </summary>
    [Fact]
    public async Task Should_time_out_a_transfer_that_hangs_before_its_first_pass_while_its_worker_heart_beats()
    {
        var id = await _orchestrator.Migrate(SimFaultsOrchestrator.HungTransferVm, "mute-a", "mute-b",
            new MigrationPolicy(MaxDowntimeMs: 50, MaxBandwidthMiBps: 1024, AllowPostCopy: false, ProgressTimeoutSeconds: 2, CompletionTimeoutSecondsPerGiB: 2));

        var summary = await _orchestrator.WaitForEnd(id);

        summary!.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
        summary.RunningOn.ShouldBe("mute-a");
    }
}
