namespace Orchestrator.Contracts;

/// <summary>
/// The forecast of a running migration, made again after pre-copy round <see cref="AfterRound"/>: the VM's dirtying as
/// learned from its earlier migrations and from this one's rounds so far (weighing most), played out from where the
/// migration stands through its convergence policy at the bandwidth the round reported. <see cref="TotalSeconds"/> counts
/// from the transfer's start; <see cref="RemainingSeconds"/> from now. <see cref="Outcome"/>: <c>converges</c>,
/// <c>post-copy</c> or <c>aborts</c>. Beside the first forecast (<see cref="MigrationPredicted"/>) and the outcome, it
/// shows how the prediction moved as the migration ran.
/// </summary>
public sealed record MigrationForecastRefreshed(
    Guid MigrationId,
    int AfterRound,
    string Outcome,
    int Rounds,
    double TotalSeconds,
    double RemainingSeconds,
    double DowntimeMs,
    long BytesSent,
    long WorkingSetBytes,
    long HotRateBytesPerSecond,
    string Reason,
    DateTimeOffset Timestamp) : IMigrationEvent;
