namespace Orchestrator.Contracts;

/// <summary>A drain was asked for: the first event of its stream.</summary>
public sealed record HostDrainRequested(Guid DrainId, string Host, string Hypervisor, IReadOnlyList<string> Targets, string? RequestedBy, DateTimeOffset Timestamp, int SchemaVersion = 1);

/// <summary>
/// The drain's plan: which VM goes where (each a migration of its own) and which cannot move, with why. The migrations
/// are started right after; the admission limits decide how many run at once.
/// </summary>
public sealed record HostDrainPlanned(Guid DrainId, IReadOnlyList<DrainMove> Moves, IReadOnlyList<DrainProblem> Unmovable, DateTimeOffset Timestamp, int SchemaVersion = 1);

/// <summary>The drain could not be planned at all (the drained host's worker did not answer, say): nothing was moved.</summary>
public sealed record HostDrainFailed(Guid DrainId, string Reason, DateTimeOffset Timestamp, int SchemaVersion = 1);

public sealed record DrainMove(string VmId, Guid MigrationId, string TargetHost, long MemoryBytes);

public sealed record DrainProblem(string VmId, string Reason);
