using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.TestSupport.Qemu;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// A drain asks what runs on a qemu host: the VMs whose QEMU runs them there, each with QEMU's own memory size, and how
/// much memory the host has left, counting every live QEMU on it.
/// </summary>
[Trait("Category", "Qemu")]
public sealed class When_the_qemu_driver_describes_a_host : IAsyncLifetime
{
    const long MiB = 1024 * 1024;
    const long GuestBytes = QemuLab.MemoryKiB * 1024;
    readonly QemuLab _lab = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _lab.DisposeAsync();

    QemuDriver Driver(long? hostMemoryMiB)
    {
        var options = new QemuOptions { RuntimeRoot = _lab.Root, PollInterval = _lab.Options.PollInterval, HostMemoryMiB = hostMemoryMiB };
        return new QemuDriver(_lab.Hosts, Options.Create(options), NullLogger<QemuDriver>.Instance);
    }

    [Fact]
    public async Task Should_list_only_the_vms_running_there_and_count_every_live_qemu_against_the_capacity()
    {
        await _lab.StartVm("host-a", "vm-run", mib: 4, rate: 8);
        // A destination waiting for a migration: it holds memory, but no VM runs there yet.
        await _lab.Hosts.StartAsync("host-a", "vm-waiting", _lab.Definition(4, 8), incoming: true, default);
        // A source whose VM went elsewhere (here into a pipe), left postmigrate until it is cleaned up.
        await _lab.StartVm("host-a", "vm-left", mib: 4, rate: 8);
        await using (var monitor = await QmpClient.ConnectAsync(_lab.Hosts.MonitorSocket("host-a", "vm-left"), TimeSpan.FromSeconds(10)))
        {
            await monitor.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 1024 * MiB });
            await monitor.ExecuteAsync("migrate", new JsonObject { ["uri"] = "exec:cat > /dev/null" });
        }
        await Eventually.Get(() => _lab.RunState("host-a", "vm-left"), s => s == "postmigrate", "vm-left to be postmigrate");
        (await _lab.RunState("host-a", "vm-waiting")).ShouldBe("inmigrate");
        // A folder whose QEMU died holds nothing.
        await _lab.StartVm("host-a", "vm-dead", mib: 4, rate: 8);
        _lab.Kill("host-a", "vm-dead");
        await Eventually.Get(() => Task.FromResult(_lab.Hosts.IsAlive("host-a", "vm-dead")), alive => !alive, "vm-dead's QEMU to be gone");

        var host = await Driver(hostMemoryMiB: 1024).DescribeHostAsync("host-a", default);

        host.Host.ShouldBe("host-a");
        host.Vms.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            vm => vm.VmId.ShouldBe("vm-run"),
            vm => vm.MemoryBytes.ShouldBe(GuestBytes));
        host.CapacityBytes.ShouldBe(1024 * MiB);
        host.FreeBytes.ShouldBe(1024 * MiB - 3 * GuestBytes);
    }

    [Fact]
    public async Task Should_offer_the_whole_capacity_on_a_host_with_no_vms_and_never_less_than_nothing()
    {
        await _lab.StartVm("host-a", "vm-big", mib: 4, rate: 8);

        var empty = await Driver(hostMemoryMiB: 1024).DescribeHostAsync("host-b", default);
        var full = await Driver(hostMemoryMiB: 32).DescribeHostAsync("host-a", default);

        empty.Vms.ShouldBeEmpty();
        empty.FreeBytes.ShouldBe(1024 * MiB);
        full.Vms.Select(vm => vm.VmId).ShouldBe(["vm-big"]);
        full.FreeBytes.ShouldBe(0);
    }

    [Fact]
    public async Task Should_take_the_machines_own_figures_when_no_capacity_is_configured()
    {
        await _lab.StartVm("host-a", "vm-run", mib: 4, rate: 8);

        var host = await Driver(hostMemoryMiB: null).DescribeHostAsync("host-a", default);

        var machine = HostMemory.Read();
        host.CapacityBytes.ShouldBe(machine.TotalBytes);
        host.FreeBytes.ShouldBeInRange(1, host.CapacityBytes);
        host.Vms.Select(vm => vm.VmId).ShouldBe(["vm-run"]);
    }
}
