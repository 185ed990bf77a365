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
        var vms = new List<HostedVm>();
        long held = 0;
        foreach (var vmId in hosts.VmsOn(host))
        {
            if (!hosts.IsAlive(host, vmId))
                continue;
            var memory = await MemorySize(host, vmId, cancellationToken);
            held += memory;
            if (await RunsOn(host, vmId, cancellationToken))
                vms.Add(new HostedVm(vmId, memory));
        }
        if (options.Value.HostMemoryMiB is { } capacityMiB)
            return new HostDescription(host, capacityMiB * MiB, Math.Max(0, capacityMiB * MiB - held), vms);
        var machine = HostMemory.Read();
        return new HostDescription(host, machine.TotalBytes, machine.AvailableBytes, vms);
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
