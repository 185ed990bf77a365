using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated world one worker process sees: which host runs which VM, which destinations wait for a VM.
/// A VM the fleet has never seen is taken to run on the source host of the first migration that names it.
/// </summary>
public sealed class SimulatedFleet
{
    readonly ConcurrentDictionary<string, string> _runningOn = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Guid, string> _preparedTargets = new();

    public SimulatedFleet()
    {
    }

    /// <summary>A fleet whose VMs start where <see cref="SimOptions.Placements"/> puts them.</summary>
    public SimulatedFleet(IOptions<SimOptions> options)
    {
        foreach (var (vmId, host) in options.Value.Placements)
            Place(vmId, host);
    }

    public void Place(string vmId, string host) => _runningOn[vmId] = host;

    /// <summary>The VMs running on <paramref name="host"/>.</summary>
    public IReadOnlyList<string> VmsOn(string host) => [.. _runningOn.Where(p => p.Value == host).Select(p => p.Key)];

    public string? WhereIs(string vmId) => _runningOn.TryGetValue(vmId, out var host) ? host : null;

    public string RunningOnOrPlace(string vmId, string host) => _runningOn.GetOrAdd(vmId, host);

    public void PrepareTarget(Guid migrationId, string host) => _preparedTargets[migrationId] = host;

    public bool IsTargetPrepared(Guid migrationId, string host) =>
        _preparedTargets.TryGetValue(migrationId, out var prepared) && prepared == host;

    public void RemoveTarget(Guid migrationId) => _preparedTargets.TryRemove(migrationId, out _);

    /// <summary>Ownership moves: the VM now runs on <paramref name="host"/> and nowhere else.</summary>
    public void SwitchOver(Guid migrationId, string vmId, string host)
    {
        _runningOn[vmId] = host;
        _preparedTargets.TryRemove(migrationId, out _);
    }
}
