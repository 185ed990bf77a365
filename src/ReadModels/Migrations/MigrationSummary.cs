using Orchestrator.Contracts;

namespace Orchestrator.ReadModels.Migrations;

/// <summary>What operators and services read about one migration; rebuilt from its event stream alone.</summary>
public sealed class MigrationSummary
{
    public Guid Id { get; set; }
    public string? VmId { get; set; }
    public string State { get; set; } = MigrationStates.Requested;
    public string? Hypervisor { get; set; }
    public string? SourceHost { get; set; }
    public string? TargetHost { get; set; }
    public string? Strategy { get; set; }
    public MigrationPolicy? Policy { get; set; }

    /// <summary>The named policy that selected the migration, if any.</summary>
    public string? PolicyName { get; set; }

    /// <summary>When the migration must have ended, as its command asked; null: no deadline.</summary>
    public DateTimeOffset? Deadline { get; set; }
    public string? RequestedBy { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>When admission gave the migration its slot (it held the slot until <see cref="EndedAt"/>).</summary>
    public DateTimeOffset? AdmittedAt { get; set; }

    /// <summary>Where the VM runs as far as the events say.</summary>
    public string? RunningOn { get; set; }

    /// <summary>Place in the admission queue when the migration joined it, and what held it back.</summary>
    public int? QueuePosition { get; set; }

    public string? QueueReason { get; set; }

    public int Rounds { get; set; }
    public long BytesTransferred { get; set; }
    public long BytesRemaining { get; set; }
    public long DirtyRateBytesPerSecond { get; set; }
    public long BandwidthBytesPerSecond { get; set; }
    public double ExpectedDowntimeMs { get; set; }
    public double? DowntimeMs { get; set; }

    /// <summary>The downtime the source host's worker predicted at the pre-flight check.</summary>
    public double? PredictedDowntimeMs { get; set; }

    /// <summary>
    /// The orchestrator's own forecast before any host was touched (<see cref="Contracts.MigrationPredicted"/>): how it
    /// would end (converges, post-copy, aborts), in how many rounds, how long and with how much downtime, learned from
    /// how many earlier migrations of the VM (0: the upper bound). Beside the actual figures, its accuracy.
    /// </summary>
    public string? ForecastOutcome { get; set; }

    public int? ForecastRounds { get; set; }

    public double? ForecastTotalSeconds { get; set; }

    public double? ForecastDowntimeMs { get; set; }

    public int? ForecastFromMigrations { get; set; }

    /// <summary>The forecast made again after the latest pre-copy round (<see cref="Contracts.MigrationForecastRefreshed"/>): after which round, how it ends, seconds left.</summary>
    public int? RefreshedAfterRound { get; set; }

    public string? RefreshedOutcome { get; set; }

    public double? RefreshedRemainingSeconds { get; set; }

    public long? MemoryBytes { get; set; }

    /// <summary>
    /// The VM's local disks, mirrored to the target before the memory moves: their size together, how much the mirror has
    /// copied (its latest report), and how long it took to be ready; null when the VM has no local disk (or not yet).
    /// </summary>
    public long? DiskBytes { get; set; }

    public long? DiskBytesMirrored { get; set; }

    public double? DiskMirrorReadyMs { get; set; }

    /// <summary>The downtime limit and vCPU throttle in force, as the convergence policy last set them.</summary>
    public int? DowntimeLimitMs { get; set; }

    public int ThrottlePercent { get; set; }

    /// <summary>The convergence policy's decisions so far (ramp steps, throttling, post-copy switch, abort).</summary>
    public int PolicyAdjustments { get; set; }

    public long PostCopyPageFaults { get; set; }
    public double? DurationMs { get; set; }

    /// <summary>Why it was rejected, rolled back, cancelled or failed.</summary>
    public string? Reason { get; set; }

    public string? RejectionCode { get; set; }

    /// <summary>How many recoveries the migration went through, and the last one's verdict and evidence.</summary>
    public int Recoveries { get; set; }

    public string? RecoveryVerdict { get; set; }

    public string? RecoveryEvidence { get; set; }

    /// <summary>
    /// The stream version this summary reflects. (Not named Version: Marten owns an aggregate's Version member and,
    /// with quick appends, writes 0 into it.)
    /// </summary>
    public long LastEventVersion { get; set; }

    public bool IsTerminal => MigrationStates.IsTerminal(State);
}
