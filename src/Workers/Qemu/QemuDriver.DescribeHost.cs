using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>How a qemu host looks to a drain: what runs there and how much memory is left.</summary>
public sealed partial class QemuDriver
{
    /// <summary>
    /// What runs on <paramref name="host"/>, for a drain: every VM whose QEMU there runs it (as <see cref="WhereIsAsync"/>
    /// judges it; not a destination still waiting, nor a source left <c>postmigrate</c>), with its memory size as QEMU
    /// reports it. Free memory: <see cref="QemuOptions.HostMemoryMiB"/> minus the memory of every live QEMU on the host
    /// (those waiting or not yet cleaned up hold theirs too), or, when that is not configured, the machine's MemAvailable.
    /// </summary>
    public async Task<HostDescription> DescribeHostAsync(string host, CancellationToken cancellationToken)
    {
        var live = await LiveQemus(host, cancellationToken);
        var vms = new List<HostedVm>();
        foreach (var (vmId, memory) in live)
        {
            if (await RunsOn(host, vmId, cancellationToken))
                vms.Add(new HostedVm(vmId, memory));
        }
        var (capacity, free) = Room(live.Sum(q => q.MemoryBytes));
        return new HostDescription(host, capacity, free, vms);
    }

    /// <summary>The host's free memory for one more VM (a destination about to start), as <see cref="DescribeHostAsync"/> counts it.</summary>
    async Task<long> FreeMemory(string host, CancellationToken cancellationToken) =>
        Room(options.Value.HostMemoryMiB is null ? 0 : (await LiveQemus(host, cancellationToken)).Sum(q => q.MemoryBytes)).Free;

    /// <summary>Every live QEMU on the host with its memory: waiting destinations and uncleaned sources hold theirs too.</summary>
    async Task<List<(string VmId, long MemoryBytes)>> LiveQemus(string host, CancellationToken cancellationToken)
    {
        var live = new List<(string, long)>();
        foreach (var vmId in hosts.VmsOn(host))
        {
            if (hosts.IsAlive(host, vmId))
                live.Add((vmId, await MemorySize(host, vmId, cancellationToken)));
        }
        return live;
    }

    /// <summary>Capacity and free memory: <see cref="QemuOptions.HostMemoryMiB"/> minus <paramref name="held"/>, else the machine's MemAvailable.</summary>
    (long Capacity, long Free) Room(long held)
    {
        if (options.Value.HostMemoryMiB is { } capacityMiB)
            return (capacityMiB * MiB, Math.Max(0, capacityMiB * MiB - held));
        var machine = HostMemory.Read();
        return (machine.TotalBytes, machine.AvailableBytes);
    }

    /// <summary>The VM's RAM as its QEMU reports it (<c>query-memory-size-summary</c>), else as its definition says.</summary>
    async Task<long> MemorySize(string host, string vmId, CancellationToken cancellationToken)
    {
        try
        {
            var qmp = await hosts.ConnectAsync(host, vmId, cancellationToken);
            var summary = await qmp.ExecuteAsync("query-memory-size-summary", null, CommandTimeout, cancellationToken);
            var plugged = summary.TryGetProperty("plugged-memory", out var p) ? p.GetInt64() : 0;
            return summary.GetProperty("base-memory").GetInt64() + plugged;
        }
        catch (Exception exception) when (exception is QmpException or TimeoutException or IOException or HypervisorStepException)
        {
            return hosts.Definition(host, vmId)?.MemoryBytes ?? 0;
        }
    }
}
