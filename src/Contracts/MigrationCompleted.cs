namespace Orchestrator.Contracts;

/// <summary>The VM runs on its target host and the source host is clean.</summary>
public sealed record MigrationCompleted(
    Guid MigrationId,
    string VmId,
    string RunningOn,
    double DowntimeMs,
    double DurationMs,
    DateTimeOffset Timestamp,
    int SchemaVersion = 1) : IMigrationEvent;
