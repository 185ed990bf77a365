using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_the_sim_driver_migrates_a_vm
{
    readonly SimulatedFleet _fleet = new();
    readonly SimOptions _options = new();
    readonly RecordingObserver _observer = new();

    SimDriver Driver => new(_fleet, Options.Create(_options));

    static BeginTransfer Transfer(Guid id, string vm, string strategy = MigrationStrategies.PreCopy) =>
        new(id, 1, vm, "host-a", "host-b", strategy, 300, 1024);

    static PrepareTarget Prepare(Guid id, string vm) => new(id, 1, vm, "host-a", "host-b", HypervisorKinds.Sim);

    [Fact]
    public async Task Should_report_every_pass_then_the_switchover_and_move_the_vm()
    {
        var id = Guid.NewGuid();
        var driver = Driver;

        await driver.PrepareTargetAsync(Prepare(id, "vm-1"), CancellationToken.None);
        await driver.MigrateAsync(Transfer(id, "vm-1"), _observer, CancellationToken.None);

        _observer.Passes.ShouldNotBeEmpty();
        _observer.Passes.Select(p => p.Round).ShouldBe(Enumerable.Range(1, _observer.Passes.Count));
        _observer.DowntimeMs.ShouldNotBeNull();
        _observer.RunningOn.ShouldBe("host-b");
        (await driver.WhereIsAsync("vm-1", CancellationToken.None)).ShouldBe("host-b");
    }

    [Fact]
    public async Task Should_send_each_page_once_in_post_copy_but_resend_dirty_pages_in_pre_copy()
    {
        // A write-heavy VM: 1 GiB of its memory is rewritten at 900 MiB/s.
        const string vm = "vm-write-heavy";
        _options.Vms[vm] = new SimVm(vm, 2L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 900L << 20);
        _fleet.Place(vm, "host-a");
        var postCopy = new RecordingObserver();
        var preCopy = new RecordingObserver();
        var driver = Driver;
        var heavy = _options.Vm(vm);

        var first = Guid.NewGuid();
        await driver.PrepareTargetAsync(Prepare(first, vm), CancellationToken.None);
        await driver.MigrateAsync(Transfer(first, vm, MigrationStrategies.PostCopy), postCopy, CancellationToken.None);
        _fleet.Place(vm, "host-a");
        var second = Guid.NewGuid();
        await driver.PrepareTargetAsync(Prepare(second, vm), CancellationToken.None);
        await driver.MigrateAsync(Transfer(second, vm, MigrationStrategies.PreCopy), preCopy, CancellationToken.None);

        postCopy.PostCopyStartedOn.ShouldBe("host-b");
        postCopy.Passes.Count.ShouldBe(1);
        // Post-copy: the first pass, then each page still missing exactly once, plus the CPU state.
        postCopy.TotalBytes.ShouldBe(heavy.MemoryBytes + postCopy.Passes[0].BytesRemaining + PreCopyModel.DeviceStateBytes);
        postCopy.PageFaults.ShouldBeGreaterThan(0);
        preCopy.TotalBytes.ShouldBeGreaterThan(postCopy.TotalBytes);
    }

    [Fact]
    public async Task Should_refuse_to_transfer_without_a_prepared_target()
    {
        var error = await Should.ThrowAsync<HypervisorStepException>(
            () => Driver.MigrateAsync(Transfer(Guid.NewGuid(), "vm-2"), _observer, CancellationToken.None));

        error.VmRunningOn.ShouldBe("host-a");
        _observer.RunningOn.ShouldBeNull();
    }

    [Fact]
    public async Task Should_fail_an_injected_step_and_leave_the_vm_on_its_source()
    {
        _options.Faults.Add(new SimFault(MigrationSteps.Transfer, "vm-3"));
        var id = Guid.NewGuid();
        var driver = Driver;
        await driver.PrepareTargetAsync(Prepare(id, "vm-3"), CancellationToken.None);

        var error = await Should.ThrowAsync<HypervisorStepException>(
            () => driver.MigrateAsync(Transfer(id, "vm-3"), _observer, CancellationToken.None));

        error.Message.ShouldContain("Injected fault");
        (await driver.WhereIsAsync("vm-3", CancellationToken.None)).ShouldBe("host-a");
    }

    [Fact]
    public async Task Should_refuse_to_abort_a_transfer_that_already_switched_over()
    {
        var id = Guid.NewGuid();
        var driver = Driver;
        await driver.PrepareTargetAsync(Prepare(id, "vm-4"), CancellationToken.None);
        await driver.MigrateAsync(Transfer(id, "vm-4"), _observer, CancellationToken.None);

        var error = await Should.ThrowAsync<HypervisorStepException>(
            () => driver.AbortAsync(new AbortTransfer(id, 1, "vm-4", "host-a"), CancellationToken.None));

        error.VmRunningOn.ShouldBe("host-b");
    }
}
