using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.TestSupport.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// Source and target on different machines, as in production: a worker process per host, each with its own runtime
/// root, so the source cannot read where the destination listens and the target cannot read the VM's definition from
/// the source's folder. Both travel in the messages; the guest's own status block says whether it arrived intact.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_each_qemu_host_has_a_worker_of_its_own(QemuOrchestrator orchestrator, QemuWorkersApart workers)
    : IClassFixture<QemuWorkersApart>
{
    const string X = QemuWorkersApart.Source;
    const string Y = QemuWorkersApart.Target;

    [Fact]
    public async Task Should_complete_a_converging_migration_through_the_messages_alone_with_the_guest_intact()
    {
        const string vm = "vm-apart";
        await workers.SourceLab.StartVm(X, vm, mib: 8, rate: 16);

        var id = await orchestrator.Migrate(vm, X, Y, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 64));
        var summary = await orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));

        summary.State.ShouldBe(MigrationStates.Completed, $"{summary.Reason}\n{workers.Output}");
        summary.RunningOn.ShouldBe(Y);
        var events = await orchestrator.Events(id);
        // The target's worker said where its destination listens, on its own address; the source migrated there.
        var uri = events.OfType<TargetPrepared>().Single().IncomingUri.ShouldNotBeNull();
        uri.ShouldStartWith($"tcp:{QemuWorkersApart.TargetListenAddress}:");
        workers.SourceWorker.Output.ShouldContain($"({uri})");
        events.OfType<PreflightPassed>().Single().VmDefinition.ShouldNotBeNull();
        events.OfType<PreCopyRoundCompleted>().ShouldNotBeEmpty();
        events.OfType<SwitchoverCompleted>().Single().RunningOn.ShouldBe(Y);

        var arrived = await workers.TargetLab.RunsOn(Y, vm);
        arrived.IntegrityErrors.ShouldBe(0u);
        arrived.PagesChecked.ShouldBeGreaterThan(0u);
        workers.SourceLab.Hosts.HostsWith(vm).ShouldBeEmpty("the postmigrate source is cleaned up");
        OnlyOwnHost(workers.SourceLab, X);
        OnlyOwnHost(workers.TargetLab, Y);
    }

    [Fact]
    public async Task Should_move_a_vm_with_its_local_disk_through_the_messages_alone_and_arrive_intact()
    {
        const string vm = "vm-apart-disk";
        await workers.SourceLab.StartVm(X, vm, mib: 8, rate: 16, diskKiB: 2048);

        var id = await orchestrator.Migrate(vm, X, Y, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 64));
        var summary = await orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));

        summary.State.ShouldBe(MigrationStates.Completed, $"{summary.Reason}\n{workers.Output}");
        summary.DiskBytes.ShouldBe(QemuLab.DiskBytes);
        summary.DiskBytesMirrored.ShouldBe(QemuLab.DiskBytes);
        summary.DiskMirrorReadyMs.ShouldNotBeNull().ShouldBeGreaterThan(0);
        var events = await orchestrator.Events(id);
        events.OfType<PreflightPassed>().Single().DiskBytes.ShouldBe(QemuLab.DiskBytes);
        // The target exported the disk on its own address, encrypted as the qemu default requires; the source mirrored there.
        var export = events.OfType<TargetPrepared>().Single().DiskExportUri.ShouldNotBeNull();
        export.ShouldStartWith($"nbd://{QemuWorkersApart.TargetListenAddress}:");
        workers.SourceWorker.Output.ShouldContain($"to {export}");
        // The mirror first, the memory after it was ready.
        var kinds = events.Select(e => e.GetType()).ToList();
        kinds.IndexOf(typeof(DiskMirrorStarted)).ShouldBeLessThan(kinds.IndexOf(typeof(DiskMirrorReady)));
        kinds.IndexOf(typeof(DiskMirrorReady)).ShouldBeLessThan(kinds.IndexOf(typeof(PreCopyRoundCompleted)));

        var before = (await workers.TargetLab.Status(Y, vm))!;
        var arrived = (await Eventually.Get(() => workers.TargetLab.Status(Y, vm), s => s is not null && s.DiskPass >= before.DiskPass + 2,
            $"the guest {vm} to rewrite its disk region twice on {Y}"))!;
        arrived.IntegrityErrors.ShouldBe(0u);
        arrived.DiskIntegrityErrors.ShouldBe(0u, arrived.ToString());
        arrived.DiskIoErrors.ShouldBe(0u, $"the last failed ATA command (bit 16 a timeout, then command and status): 0x{arrived.LastDiskIoError:x}; {arrived}");
        workers.SourceLab.Hosts.HostsWith(vm).ShouldBeEmpty("the source and its image are cleaned up once the migration completed");
        // The target's disk is no longer writable from outside once the VM runs there.
        await Eventually.Get(async () =>
        {
            await using var monitor = await Workers.Qemu.QmpClient.ConnectAsync(workers.TargetLab.Hosts.MonitorSocket(Y, vm), TimeSpan.FromSeconds(10));
            return (await monitor.ExecuteAsync("query-block-exports")).GetArrayLength();
        }, exports => exports == 0, $"the NBD export on {Y} to stop");
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_resume_a_post_copy_whose_link_broke_by_asking_the_target_hosts_worker_and_complete_intact()
    {
        const string vm = "vm-apart-pc";
        await workers.SourceLab.StartVm(X, vm, mib: 32, rate: 256);
        await using var monitor = await Workers.Qemu.QmpClient.ConnectAsync(workers.SourceLab.Hosts.MonitorSocket(X, vm), TimeSpan.FromSeconds(10));
        var watch = new MigrationWatch(monitor);

        var id = await orchestrator.Migrate(vm, X, Y, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 16, AllowPostCopy: true),
            MigrationStrategies.PostCopy);
        await watch.PostCopyActive.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.Get(() => workers.TargetLab.RunState(Y, vm), s => s == "running", $"the guest {vm} to run on {Y} in post-copy");
        // The source's worker cannot reach the destination's QEMU: only the target's worker, over RabbitMQ, can.
        await monitor.ExecuteAsync("migrate-pause");
        await watch.PostCopyPaused.WaitAsync(TimeSpan.FromSeconds(10));
        var summary = await orchestrator.WaitForEnd(id);
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));

        summary.State.ShouldBe(MigrationStates.Completed, $"{summary.Reason}\n{workers.Output}");
        summary.RunningOn.ShouldBe(Y);
        var events = await orchestrator.Events(id);
        var recovered = events.OfType<PostCopyRecovered>().ShouldHaveSingleItem();
        recovered.Detail.ShouldContain($"migrate-recover on {Y} at tcp:{QemuWorkersApart.TargetListenAddress}:");
        workers.TargetWorker.Output.ShouldContain("listens for the resumed post-copy");
        events.OfType<MigrationStepFailed>().ShouldBeEmpty();
        var arrived = await workers.TargetLab.RunsOn(Y, vm);
        arrived.IntegrityErrors.ShouldBe(0u);
        arrived.PagesChecked.ShouldBeGreaterThan(0u);
        workers.SourceLab.Hosts.HostsWith(vm).ShouldBeEmpty("the postmigrate source is cleaned up");
    }

    [Fact]
    public async Task Should_drain_a_qemu_host_of_both_its_guests_onto_the_other_host_intact()
    {
        string[] vms = ["vm-drain-1", "vm-drain-2"];
        foreach (var vm in vms)
            await workers.SourceLab.StartVm(X, vm, mib: 8, rate: 16);

        var drainId = await orchestrator.Drain(X, Y);
        var drain = await orchestrator.WaitForDrain(drainId);

        drain.State.ShouldBe(DrainProgress.Drained, $"{drain.Reason}\n{string.Join("\n", drain.Items)}\n{workers.Output}");
        drain.Moved.ShouldBe(2);
        var plan = (await orchestrator.Events(drainId)).OfType<HostDrainPlanned>().Single();
        plan.Unmovable.ShouldBeEmpty();
        plan.Moves.Select(m => m.VmId).Order().ShouldBe(vms);
        plan.Moves.ShouldAllBe(m => m.TargetHost == Y && m.MemoryBytes == QemuLab.MemoryKiB * 1024);
        foreach (var vm in vms)
        {
            var arrived = await workers.TargetLab.RunsOn(Y, vm);
            arrived.IntegrityErrors.ShouldBe(0u, vm);
            (await workers.TargetLab.RunState(Y, vm)).ShouldBe("running");
        }
        workers.SourceLab.Hosts.VmsOn(X).ShouldBeEmpty("nothing is left on the drained host");
        OnlyOwnHost(workers.SourceLab, X);
        OnlyOwnHost(workers.TargetLab, Y);
    }

    /// <summary>A worker's runtime root holds its own host's folder and nothing of the other's.</summary>
    static void OnlyOwnHost(QemuLab lab, string host) =>
        Directory.EnumerateDirectories(lab.Root).Select(Path.GetFileName).ShouldBe([host]);
}
