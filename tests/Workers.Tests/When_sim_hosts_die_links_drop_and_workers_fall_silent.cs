using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_sim_hosts_die_links_drop_and_workers_fall_silent
{
    const long MiB = 1024 * 1024;
    readonly SimulatedFleet _fleet = new();
    readonly SimOptions _options = new();
    readonly RecordingObserver _observer = new();
    readonly Guid _id = Guid.NewGuid();

    SimDriver Driver { get; }

    public When_sim_hosts_die_links_drop_and_workers_fall_silent()
    {
        Driver = new SimDriver(_fleet, Options.Create(_options));
        // Needs two passes to fit 50 ms, so a fault at pass 2 strikes mid-transfer.
        foreach (var vm in new[] { "vm-1", "vm-2" })
            _options.Vms[vm] = new SimVm(vm, 1L << 30, WorkingSetBytes: 256 * MiB, DirtyRateBytesPerSecond: 150 * MiB);
        _fleet.Place("vm-1", "host-a");
        _fleet.Place("vm-2", "host-a");
    }

    BeginTransfer Transfer(string strategy = MigrationStrategies.PreCopy) => new(_id, 1, "vm-1", "host-a", "host-b", strategy, 50, 1024);

    async Task Prepare() => await Driver.PrepareTargetAsync(new PrepareTarget(_id, 1, "vm-1", "host-a", "host-b", HypervisorKinds.Sim), CancellationToken.None);

    [Fact]
    public async Task Should_lose_every_vm_of_a_source_host_that_dies_mid_transfer_and_fail_every_later_step_on_it()
    {
        _options.HostCrashes.Add(new SimHostCrash("host-a", VmId: "vm-1", AtRound: 2));
        await Prepare();

        var error = await Should.ThrowAsync<HypervisorStepException>(() => Driver.MigrateAsync(Transfer(), _observer, CancellationToken.None));

        error.Message.ShouldContain("Host 'host-a' is down");
        error.VmRunningOn.ShouldBeNull();
        _observer.Passes.Count.ShouldBe(1);
        _fleet.WhereIs("vm-1").ShouldBeNull();
        _fleet.WhereIs("vm-2").ShouldBeNull();
        (await Should.ThrowAsync<HypervisorStepException>(() => Driver.AbortAsync(new AbortTransfer(_id, 1, "vm-1", "host-a"), CancellationToken.None)))
            .Message.ShouldContain("is down");
        (await Driver.PreflightAsync(new CheckMigration(Guid.NewGuid(), 1, "vm-3", "host-c", "host-a", HypervisorKinds.Sim, 300, 1024, false, false),
            CancellationToken.None)).Problem.ShouldBe("Host 'host-a' is down.");
    }

    [Fact]
    public async Task Should_keep_the_vm_on_its_source_when_the_target_dies_and_fail_the_destroy_of_its_destination()
    {
        _options.HostCrashes.Add(new SimHostCrash("host-b", AtRound: 2));
        await Prepare();

        var error = await Should.ThrowAsync<HypervisorStepException>(() => Driver.MigrateAsync(Transfer(), _observer, CancellationToken.None));

        error.Message.ShouldContain("Host 'host-b' is down");
        error.VmRunningOn.ShouldBe("host-a");
        _fleet.WhereIs("vm-1").ShouldBe("host-a");
        await Driver.AbortAsync(new AbortTransfer(_id, 1, "vm-1", "host-a"), CancellationToken.None);
        (await Should.ThrowAsync<HypervisorStepException>(() => Driver.DestroyTargetAsync(new DestroyTarget(_id, 1, "vm-1", "host-b"), CancellationToken.None)))
            .VmRunningOn.ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_fail_the_transfer_mid_pass_when_the_link_drops_and_leave_the_vm_where_it_was()
    {
        _options.LinkDrops.Add(new SimLinkDrop(VmId: "vm-1", AtRound: 2));
        await Prepare();

        var error = await Should.ThrowAsync<HypervisorStepException>(() => Driver.MigrateAsync(Transfer(), _observer, CancellationToken.None));

        error.Message.ShouldContain("link from 'host-a' to 'host-b' dropped during pass 2");
        error.VmRunningOn.ShouldBe("host-a");
        _observer.Passes.Count.ShouldBe(1);
        _fleet.IsDown("host-a").ShouldBeFalse();
        _fleet.IsDown("host-b").ShouldBeFalse();
        await Driver.AbortAsync(new AbortTransfer(_id, 1, "vm-1", "host-a"), CancellationToken.None);
        await Driver.DestroyTargetAsync(new DestroyTarget(_id, 1, "vm-1", "host-b"), CancellationToken.None);
        _fleet.WhereIs("vm-1").ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_lose_the_vm_when_the_link_drops_during_post_copy()
    {
        _options.LinkDrops.Add(new SimLinkDrop(Host: "host-b", DuringPostCopy: true));
        await Prepare();

        var error = await Should.ThrowAsync<HypervisorStepException>(() => Driver.MigrateAsync(Transfer(MigrationStrategies.PostCopy), _observer, CancellationToken.None));

        error.Message.ShouldContain("Post-copy of VM 'vm-1' broke off");
        error.VmRunningOn.ShouldBeNull();
        _observer.PostCopyStartedOn.ShouldBe("host-b");
        _fleet.WhereIs("vm-1").ShouldBeNull();
    }

    [Fact]
    public async Task Should_take_a_command_and_never_answer_it_when_the_worker_falls_silent()
    {
        _options.Silences.Add(new SimSilence(MigrationSteps.PrepareTarget, VmId: "vm-1"));
        using var workerStops = new CancellationTokenSource();

        var prepare = Driver.PrepareTargetAsync(new PrepareTarget(_id, 1, "vm-1", "host-a", "host-b", HypervisorKinds.Sim), workerStops.Token);
        var other = Driver.PrepareTargetAsync(new PrepareTarget(Guid.NewGuid(), 1, "vm-2", "host-a", "host-b", HypervisorKinds.Sim), CancellationToken.None);
        await other;
        var finished = await Task.WhenAny(prepare, Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken));

        finished.ShouldNotBe(prepare);
        _fleet.IsTargetPrepared(_id, "host-b").ShouldBeFalse();
        await workerStops.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => prepare);
    }

    [Fact]
    public async Task Should_fall_silent_after_the_given_pass_until_the_transfer_is_aborted()
    {
        _options.Silences.Add(new SimSilence(MigrationSteps.Transfer, VmId: "vm-1", AfterRound: 1));
        await Prepare();

        var transfer = Driver.MigrateAsync(Transfer(), _observer, CancellationToken.None);
        await Eventually.Get(() => Task.FromResult(_observer.Passes.Count), count => count == 1, "the first pass");
        var finished = await Task.WhenAny(transfer, Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken));

        finished.ShouldNotBe(transfer);
        await Driver.AbortAsync(new AbortTransfer(_id, 1, "vm-1", "host-a"), CancellationToken.None);
        await Should.ThrowAsync<OperationCanceledException>(() => transfer);
        _observer.Passes.Count.ShouldBe(1);
        _fleet.WhereIs("vm-1").ShouldBe("host-a");
    }
}
