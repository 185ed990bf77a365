namespace Orchestrator.Contracts;

/// <summary>
/// What the orchestrator predicted for the migration before any host was touched, and from what: the VM's dirtying as
/// learned from its <see cref="EarlierMigrations"/> earlier migrations (a working set rewritten at a hot rate, a cold
/// tail, their spread as <see cref="RelativeError"/>), its memory and the bandwidth, played out through the migration's
/// convergence policy. <see cref="Outcome"/>: <c>converges</c>, <c>post-copy</c> or <c>aborts</c>; with no earlier
/// migration it is the upper bound (all memory once over the link, the policy's downtime limit) and says so in
/// <see cref="Reason"/>. Recorded beside the outcome, so the predictor's accuracy can be read from history alone.
/// </summary>
public sealed record MigrationPredicted(
    Guid MigrationId,
    string Outcome,
    int Rounds,
    double TotalSeconds,
    double DowntimeMs,
    long BytesSent,
    int FirstDowntimeLimitMs,
    long MemoryBytes,
    long BandwidthBytesPerSecond,
    int EarlierMigrations,
    long WorkingSetBytes,
    long HotRateBytesPerSecond,
    long ColdRateBytesPerSecond,
    double RelativeError,
    string Reason,
    DateTimeOffset Timestamp) : IMigrationEvent;
