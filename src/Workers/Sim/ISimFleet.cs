namespace Orchestrator.Workers.Sim;

/// <summary>
/// The simulated world the sim driver acts on: which host runs which VM, which destinations wait for a VM (each holding
/// the memory promised to its inbound migration, and how many passes its transfer has sent), which hosts are dead.
/// <see cref="SimulatedFleet"/> keeps it in one process (the demo, in-process tests); <see cref="SharedSimFleet"/> keeps
/// it in PostgreSQL, so that several worker processes act on one fleet and a restarted worker finds it as it was.
/// </summary>
public interface ISimFleet
{
    /// <summary>The host running <paramref name="vmId"/>; null when none does.</summary>
    Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Where the VM runs; a VM the fleet has never seen is placed on <paramref name="host"/> first.</summary>
    Task<string> RunningOnOrPlaceAsync(string vmId, string host, CancellationToken cancellationToken);

    /// <summary>What <paramref name="host"/> holds and has promised, read at one moment.</summary>
    Task<SimHostLoad> LoadAsync(string host, CancellationToken cancellationToken);

    /// <summary>
    /// Prepares the destination of <paramref name="migrationId"/> on <paramref name="host"/> and promises it the VM's memory,
    /// unless <paramref name="refuse"/>, given the host's load (without this migration), names a problem: then nothing
    /// changes and the problem is returned. Atomic against every other preparation for the same host. Idempotent.
    /// </summary>
    Task<string?> PrepareTargetAsync(Guid migrationId, string vmId, string host, Func<SimHostLoad, string?> refuse, CancellationToken cancellationToken);

    Task<bool> IsTargetPreparedAsync(Guid migrationId, string host, CancellationToken cancellationToken);

    /// <summary>The destination goes, and the memory promised to it with it (a rollback). Idempotent.</summary>
    Task RemoveTargetAsync(Guid migrationId, CancellationToken cancellationToken);

    /// <summary>Passes the transfer of <paramref name="migrationId"/> has sent so far (0 when none or no destination).</summary>
    Task<int> PassesSentAsync(Guid migrationId, CancellationToken cancellationToken);

    /// <summary>Records that the transfer sent pass <paramref name="round"/>: a transfer that starts again resumes after it.</summary>
    Task RecordPassAsync(Guid migrationId, int round, CancellationToken cancellationToken);

    /// <summary>Ownership moves: the VM now runs on <paramref name="host"/> and nowhere else; its destination's promise is kept.</summary>
    Task SwitchOverAsync(Guid migrationId, string vmId, string host, CancellationToken cancellationToken);

    /// <summary>
    /// The host dies: the VMs it ran and the destinations it prepared are gone, and it stays dead. Returns the VMs lost with it.
    /// </summary>
    Task<IReadOnlyList<string>> KillHostAsync(string host, CancellationToken cancellationToken);

    /// <summary>The VM runs nowhere any more (a post-copy that broke off: each host holds part of it).</summary>
    Task LoseAsync(string vmId, CancellationToken cancellationToken);

    Task<bool> IsDownAsync(string host, CancellationToken cancellationToken);
}
