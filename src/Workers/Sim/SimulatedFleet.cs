using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated world kept in one process (the demo, in-process tests): which host runs which VM, which destinations
/// wait for a VM, which hosts are dead. Another process does not see it and a restart forgets it; worker processes use
/// <see cref="SharedSimFleet"/>. A VM the fleet has never seen is taken to run on the source host of the first migration
/// that names it.
/// </summary>
public sealed class SimulatedFleet : ISimFleet
{
    readonly ConcurrentDictionary<string, string> _runningOn = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Guid, Destination> _preparedTargets = new();
    readonly ConcurrentDictionary<string, DateTimeOffset> _deadHosts = new(StringComparer.Ordinal);
    // Preparations check a host's room and promise it in one step: one at a time.
    readonly Lock _preparing = new();

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

    public bool IsTargetPrepared(Guid migrationId, string host) =>
        _preparedTargets.TryGetValue(migrationId, out var prepared) && prepared.Host == host;

    /// <summary>Ownership moves: the VM now runs on <paramref name="host"/> and nowhere else.</summary>
    public void SwitchOver(Guid migrationId, string vmId, string host)
    {
        _runningOn[vmId] = host;
        _preparedTargets.TryRemove(migrationId, out _);
    }

    /// <summary>
    /// The host dies: the VMs it ran and the destinations it prepared are gone (<see cref="WhereIs"/> no longer reports
    /// them), and it stays dead. Returns the VMs lost with it.
    /// </summary>
    public IReadOnlyList<string> KillHost(string host)
    {
        _deadHosts.TryAdd(host, DateTimeOffset.UtcNow);
        var lost = VmsOn(host);
        foreach (var vm in lost)
            _runningOn.TryRemove(new KeyValuePair<string, string>(vm, host));
        foreach (var target in _preparedTargets.Where(p => p.Value.Host == host))
            _preparedTargets.TryRemove(target);
        return lost;
    }

    public bool IsDown(string host) => _deadHosts.ContainsKey(host);

    SimHostLoad Load(string host) => new(VmsOn(host),
        [.. _preparedTargets.Where(p => p.Value.Host == host).Select(p => new InboundVm(p.Key, p.Value.VmId))]);

    Task<string?> ISimFleet.WhereIsAsync(string vmId, CancellationToken cancellationToken) => Task.FromResult(WhereIs(vmId));

    Task<string> ISimFleet.RunningOnOrPlaceAsync(string vmId, string host, CancellationToken cancellationToken) =>
        Task.FromResult(_runningOn.GetOrAdd(vmId, host));

    Task<SimHostLoad> ISimFleet.LoadAsync(string host, CancellationToken cancellationToken) => Task.FromResult(Load(host));

    Task<string?> ISimFleet.PrepareTargetAsync(Guid migrationId, string vmId, string host, Func<SimHostLoad, string?> refuse,
        CancellationToken cancellationToken)
    {
        lock (_preparing)
        {
            if (IsTargetPrepared(migrationId, host))
                return Task.FromResult<string?>(null);
            var problem = refuse(Load(host).Without(migrationId));
            if (problem is null)
                _preparedTargets[migrationId] = new Destination(host, vmId, 0);
            return Task.FromResult(problem);
        }
    }

    Task<bool> ISimFleet.IsTargetPreparedAsync(Guid migrationId, string host, CancellationToken cancellationToken) =>
        Task.FromResult(IsTargetPrepared(migrationId, host));

    Task ISimFleet.RemoveTargetAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        _preparedTargets.TryRemove(migrationId, out _);
        return Task.CompletedTask;
    }

    Task<int> ISimFleet.PassesSentAsync(Guid migrationId, CancellationToken cancellationToken) =>
        Task.FromResult(_preparedTargets.TryGetValue(migrationId, out var prepared) ? prepared.PassesSent : 0);

    Task ISimFleet.RecordPassAsync(Guid migrationId, int round, CancellationToken cancellationToken)
    {
        while (_preparedTargets.TryGetValue(migrationId, out var prepared) && prepared.PassesSent < round
            && !_preparedTargets.TryUpdate(migrationId, prepared with { PassesSent = round }, prepared))
        {
        }
        return Task.CompletedTask;
    }

    Task ISimFleet.SwitchOverAsync(Guid migrationId, string vmId, string host, CancellationToken cancellationToken)
    {
        SwitchOver(migrationId, vmId, host);
        return Task.CompletedTask;
    }

    Task<IReadOnlyList<string>> ISimFleet.KillHostAsync(string host, CancellationToken cancellationToken) => Task.FromResult(KillHost(host));

    Task ISimFleet.LoseAsync(string vmId, CancellationToken cancellationToken)
    {
        _runningOn.TryRemove(vmId, out _);
        return Task.CompletedTask;
    }

    Task<bool> ISimFleet.IsDownAsync(string host, CancellationToken cancellationToken) => Task.FromResult(IsDown(host));

    sealed record Destination(string Host, string VmId, int PassesSent);
}
