using Orchestrator.Contracts;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>Where a VM runs, from QEMU's own words: the truth a recovery and a drain act on.</summary>
public sealed partial class QemuDriver
{
    /// <summary>
    /// The host whose QEMU runs the VM: <c>query-status</c> says <c>running</c> and, on a destination, the incoming
    /// migration is not stuck in <c>postcopy-paused</c> (whose guest only looks running: it waits for pages forever).
    /// </summary>
    public async Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken)
    {
        foreach (var host in hosts.HostsWith(vmId))
        {
            if (await RunsOn(host, vmId, cancellationToken))
                return host;
        }
        return null;
    }

    async Task<bool> RunsOn(string host, string vmId, CancellationToken cancellationToken)
    {
        if (await hosts.RunStateAsync(host, vmId, cancellationToken) != "running")
            return false;
        var qmp = await hosts.ConnectAsync(host, vmId, cancellationToken);
        var migration = await QueryMigrate(qmp, cancellationToken);
        return migration.Status is not ("postcopy-paused" or "postcopy-recover");
    }

    /// <summary>
    /// The truth query of a recovery, from QEMU's own words on <paramref name="host"/>: <c>query-status</c> and, where the
    /// VM takes part in a migration, <c>query-migrate</c>. A destination in <c>postcopy-paused</c> looks running but waits
    /// for pages for ever: it is paused. No QEMU process for the VM: absent.
    /// </summary>
    public async Task<VmInspection> InspectAsync(string vmId, string host, CancellationToken cancellationToken)
    {
        if (!hosts.IsAlive(host, vmId))
            return new VmInspection(VmPresences.Absent, $"no QEMU process for VM '{vmId}' on {host}");
        var state = await hosts.RunStateAsync(host, vmId, cancellationToken);
        if (state is null)
            return new VmInspection(VmPresences.Unknown, $"the QEMU of VM '{vmId}' on {host} runs but does not answer query-status");
        var qmp = await hosts.ConnectAsync(host, vmId, cancellationToken);
        var migration = (await QueryMigrate(qmp, cancellationToken)).Status ?? "none";
        var words = $"QEMU on {host}: query-status {state}, query-migrate {migration}";
        return state switch
        {
            "running" when migration is "postcopy-paused" or "postcopy-recover" => new VmInspection(VmPresences.Paused, words),
            "running" => new VmInspection(VmPresences.Running, words),
            "inmigrate" => new VmInspection(VmPresences.Incoming, words),
            "postmigrate" or "shutdown" => new VmInspection(VmPresences.Stopped, words),
            _ => new VmInspection(VmPresences.Paused, words),   // paused, finish-migrate, restore-vm, suspended, …
        };
    }
}
