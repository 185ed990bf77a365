namespace Orchestrator.Contracts;

/// <summary>A drain was asked for: the first event of its stream.</summary>
public sealed record HostDrainRequested(Guid DrainId, string Host, string Hypervisor, IReadOnlyList<string> Targets, string? RequestedBy, DateTimeOffset Timestamp, int SchemaVersion = 1);

/// <summary>
/// The drain's plan: which VM goes where (each a migration of its own) and which cannot move, with why. The migrations
/// are started right after; the admission limits decide how many run at once.
/// </summary>
public sealed record HostDrainPlanned(Guid DrainId, IReadOnlyList<DrainMove> Moves, IReadOnlyList<DrainProblem> Unmovable, DateTimeOffset Timestamp,
    DrainForecast? Forecast = null, int SchemaVersion = 1);

/// <summary>
/// What the drain was predicted to take when it was planned, from each VM's history over the drained host's uplink
/// (<see cref="LinkMiBps"/>) under the admission limits (<see cref="MaxAtOnce"/> at once; <see cref="Scheduler"/>
/// <c>fixed-limits</c>: the link split evenly). Seconds count from the plan's <see cref="HostDrainPlanned.Timestamp"/>.
/// Absent from drains planned before forecasts were recorded.
/// </summary>
public sealed record DrainForecast(double LinkMiBps, int MaxAtOnce, string Scheduler, double TotalSeconds, IReadOnlyList<DrainMoveForecast> Moves);

/// <summary>One VM's forecast in a drain: its place in line, the bandwidth it starts with, when it starts and ends, its downtime and ending; <see cref="EarlierMigrations"/> 0: no history, the upper bound.</summary>
public sealed record DrainMoveForecast(string VmId, int Order, double BandwidthMiBps, double StartSeconds, double EndSeconds, double DowntimeMs,
    string Outcome, int EarlierMigrations);

/// <summary>The drain could not be planned at all (the drained host's worker did not answer, say): nothing was moved.</summary>
public sealed record HostDrainFailed(Guid DrainId, string Reason, DateTimeOffset Timestamp, int SchemaVersion = 1);

public sealed record DrainMove(string VmId, Guid MigrationId, string TargetHost, long MemoryBytes);

public sealed record DrainProblem(string VmId, string Reason);
