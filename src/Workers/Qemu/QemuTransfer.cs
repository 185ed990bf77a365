namespace Orchestrator.Workers.Qemu;

/// <summary>A migration this worker runs on a source QEMU: what the orchestrator asked of it while it runs.</summary>
public sealed class QemuTransfer(Guid migrationId, string vmId, string sourceHost, string targetHost, bool postCopyEnabled)
{
    public Guid MigrationId { get; } = migrationId;

    public string VmId { get; } = vmId;

    public string SourceHost { get; } = sourceHost;

    public string TargetHost { get; } = targetHost;

    /// <summary>The fencing epoch the transfer was started under, carried by what it asks of other workers.</summary>
    public int Epoch { get; init; }

    /// <summary>postcopy-ram was set on both sides: <c>migrate-start-postcopy</c> can be used.</summary>
    public bool PostCopyEnabled { get; } = postCopyEnabled;

    /// <summary>Set once <c>migrate-start-postcopy</c> was sent: from then on nothing may cancel the migration.</summary>
    public volatile bool PostCopyRequested;

    /// <summary>Set once the orchestrator was told post-copy started (<c>PostCopyStarted</c>).</summary>
    public volatile bool PostCopyReported;

    /// <summary>The downtime limit QEMU was last given (0: not known, as for a transfer this worker re-attached to).</summary>
    public volatile int DowntimeLimitMs;

    /// <summary>Passes read from QEMU and not yet reported (the last one waits for the outcome); only the transfer's own loop uses it.</summary>
    public List<Drivers.PreCopyPass> HeldPasses { get; } = [];

    /// <summary>The NBD nodes (and mirror jobs, same ids) of the disks being mirrored to the target; empty when none.</summary>
    public IReadOnlyList<string> MirrorNodes { get; set; } = [];

    /// <summary>Set once the mirrors were completed at <c>pre-switchover</c> and the switchover let go on.</summary>
    public volatile bool SwitchoverContinued;

    /// <summary>Set when the orchestrator aborts it: the <c>cancelled</c> status is then the expected end.</summary>
    public volatile bool AbortRequested;
}
