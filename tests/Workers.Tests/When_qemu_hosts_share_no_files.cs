using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.TestSupport.Qemu;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// Source and target hosts on different machines, as in production: two drivers, each with a runtime root of its own,
/// so neither sees the other's files. What one side needs of the other comes only through the commands.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class When_qemu_hosts_share_no_files : IAsyncLifetime
{
    const string Vm = "vm-apart";
    readonly QemuLab _a = new();
    readonly QemuLab _b = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    static QemuDriver DriverOn(QemuLab lab) => new(lab.Hosts, Options.Create(lab.Options), NullLogger<QemuDriver>.Instance);

    static CheckMigration Check(Guid id) => new(id, 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu, 300, 64, false, false);

    static BeginTransfer Transfer(Guid id, string? uri, string strategy = MigrationStrategies.PreCopy, int bandwidthMiBps = 64) =>
        new(id, 1, Vm, "host-a", "host-b", strategy, 300, bandwidthMiBps, AllowPostCopy: strategy == MigrationStrategies.PostCopy, IncomingUri: uri);

    [Fact]
    public async Task Should_migrate_with_the_definition_and_the_destination_uri_the_commands_carry()
    {
        await _a.StartVm("host-a", Vm, mib: 8, rate: 16);
        // The destination's machine listens on an address of its own; the URI it reports names it.
        _b.Options.ListenAddress = "127.0.0.2";
        var (source, target) = (DriverOn(_a), DriverOn(_b));
        var id = Guid.NewGuid();
        var observer = new RecordingObserver();

        var preflight = await source.PreflightAsync(Check(id), default);
        preflight.Passed.ShouldBeTrue(preflight.Problem);
        QemuVmDefinition.FromJson(preflight.VmDefinition.ShouldNotBeNull()).ShouldBe(_a.Hosts.Definition("host-a", Vm));
        var prepared = await target.PrepareTargetAsync(new PrepareTarget(id, 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu,
            VmDefinition: preflight.VmDefinition), default);
        prepared.IncomingUri.ShouldNotBeNull().ShouldStartWith("tcp:127.0.0.2:");
        await source.MigrateAsync(Transfer(id, prepared.IncomingUri), observer, default);

        observer.RunningOn.ShouldBe("host-b");
        observer.Passes.ShouldNotBeEmpty();
        (await _b.RunsOn("host-b", Vm)).IntegrityErrors.ShouldBe(0u);
        (await target.WhereIsAsync(Vm, default)).ShouldBe("host-b");
        await source.CleanupSourceAsync(new CleanupSource(id, 1, Vm, "host-a"), default);
        _a.Hosts.HostsWith(Vm).ShouldBeEmpty();
        // Neither driver reached into the other's root.
        Directory.EnumerateDirectories(_a.Root).Select(Path.GetFileName).ShouldBe(["host-a"]);
        Directory.EnumerateDirectories(_b.Root).Select(Path.GetFileName).ShouldBe(["host-b"]);
    }

    [Fact]
    public async Task Should_refuse_a_transfer_that_does_not_say_where_the_destination_listens_and_leave_the_vm_running()
    {
        await _a.StartVm("host-a", Vm, mib: 8, rate: 16);

        var refused = await Should.ThrowAsync<HypervisorStepException>(() =>
            DriverOn(_a).MigrateAsync(Transfer(Guid.NewGuid(), uri: null), new RecordingObserver(), default));

        refused.Message.ShouldContain("carries no IncomingUri");
        refused.VmRunningOn.ShouldBe("host-a");
        (await _a.RunState("host-a", Vm)).ShouldBe("running");
        await using var monitor = await QmpClient.ConnectAsync(_a.Hosts.MonitorSocket("host-a", Vm), TimeSpan.FromSeconds(10));
        (await monitor.ExecuteAsync("query-migrate")).TryGetProperty("status", out _).ShouldBeFalse("QEMU was never asked to migrate");
    }

    [Fact]
    public async Task Should_refuse_to_prepare_a_destination_with_no_definition_it_can_find()
    {
        var refused = await Should.ThrowAsync<HypervisorStepException>(() =>
            DriverOn(_b).PrepareTargetAsync(new PrepareTarget(Guid.NewGuid(), 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu), default));

        refused.Message.ShouldContain("carries no VM definition");
        _b.Hosts.IsAlive("host-b", Vm).ShouldBeFalse();
    }

    [Fact]
    public async Task Should_refuse_to_prepare_a_destination_on_a_host_without_room_for_the_vm()
    {
        // Room for one guest on host-b, which already runs one.
        _b.Options.HostMemoryMiB = QemuLab.MemoryKiB / 1024 + 32;
        await _b.StartVm("host-b", "vm-resident", mib: 8, rate: 16);
        await _a.StartVm("host-a", Vm, mib: 8, rate: 16);
        var id = Guid.NewGuid();
        var preflight = await DriverOn(_a).PreflightAsync(Check(id), default);

        var refused = await Should.ThrowAsync<HypervisorStepException>(() => DriverOn(_b).PrepareTargetAsync(
            new PrepareTarget(id, 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu, VmDefinition: preflight.VmDefinition), default));

        refused.Message.ShouldContain("Target 'host-b' has ");
        refused.Message.ShouldContain($"needs {QemuLab.MemoryKiB / 1024.0:0.#} MiB");
        refused.VmRunningOn.ShouldBe("host-a");
        _b.Hosts.IsAlive("host-b", Vm).ShouldBeFalse("nothing was started on the full host");
        (await _a.RunState("host-a", Vm)).ShouldBe("running");

        // Once the resident guest is gone, the same VM fits.
        await _b.Hosts.KillAsync("host-b", "vm-resident");
        var prepared = await DriverOn(_b).PrepareTargetAsync(
            new PrepareTarget(id, 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu, VmDefinition: preflight.VmDefinition), default);
        prepared.IncomingUri.ShouldNotBeNull();
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_resume_a_paused_post_copy_by_asking_the_destination_hosts_driver_and_arrive_intact()
    {
        var target = DriverOn(_b);
        var peer = new ForwardingPeer(target);
        var sourceWithPeer = new QemuDriver(_a.Hosts, Options.Create(_a.Options), NullLogger<QemuDriver>.Instance, peer);
        var observer = new RecordingObserver();

        var transfer = await StartPostCopyAndPause(sourceWithPeer, target, observer);
        await transfer;

        peer.Asked.ShouldBeGreaterThanOrEqualTo(1, "the destination's part was asked of the target's driver");
        observer.Recoveries.ShouldHaveSingleItem().ShouldContain("migrate-recover on host-b");
        observer.RunningOn.ShouldBe("host-b");
        var arrived = await _b.RunsOn("host-b", Vm);
        arrived.IntegrityErrors.ShouldBe(0u);
        (await target.WhereIsAsync(Vm, default)).ShouldBe("host-b");
        Directory.EnumerateDirectories(_a.Root).Select(Path.GetFileName).ShouldBe(["host-a"]);
        Directory.EnumerateDirectories(_b.Root).Select(Path.GetFileName).ShouldBe(["host-b"]);
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_report_a_paused_post_copy_lost_when_no_bus_reaches_the_destinations_worker()
    {
        var (source, target) = (DriverOn(_a), DriverOn(_b));

        var transfer = await StartPostCopyAndPause(source, target, new RecordingObserver());

        var lost = await Should.ThrowAsync<HypervisorStepException>(() => transfer);
        lost.Message.ShouldContain("postcopy-paused");
        lost.Message.ShouldContain("another worker serves");
        lost.Message.ShouldContain("is lost");
        lost.VmRunningOn.ShouldBeNull();
    }

    /// <summary>A hot guest migrated in post-copy from host-a to host-b; its link broken (migrate-pause) once it runs on host-b.</summary>
    async Task<Task> StartPostCopyAndPause(QemuDriver source, QemuDriver target, RecordingObserver observer)
    {
        await _a.StartVm("host-a", Vm, mib: 32, rate: 256);
        var id = Guid.NewGuid();
        var monitor = await QmpClient.ConnectAsync(_a.Hosts.MonitorSocket("host-a", Vm), TimeSpan.FromSeconds(10));
        var watch = new MigrationWatch(monitor);
        var preflight = await source.PreflightAsync(Check(id), default);
        var prepared = await target.PrepareTargetAsync(new PrepareTarget(id, 1, Vm, "host-a", "host-b", HypervisorKinds.Qemu,
            VmDefinition: preflight.VmDefinition), default);
        var transfer = source.MigrateAsync(Transfer(id, prepared.IncomingUri, MigrationStrategies.PostCopy, bandwidthMiBps: 16), observer, default);
        await watch.PostCopyActive.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.Get(() => _b.RunState("host-b", Vm), s => s == "running", "the guest to run on the destination in post-copy");
        await monitor.ExecuteAsync("migrate-pause");
        await monitor.DisposeAsync();
        return transfer;
    }

    /// <summary>Another host's worker, reached directly: what the bus carries in production, without the bus.</summary>
    sealed class ForwardingPeer(QemuDriver destination) : IDestinationWorkers
    {
        public int Asked;

        public Task<PostCopyRecoveryListening> ListenForPostCopyRecoveryAsync(ListenForPostCopyRecovery command, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Asked);
            return destination.ListenForPostCopyRecoveryAsync(command, cancellationToken);
        }
    }
}
