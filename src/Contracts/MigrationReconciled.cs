namespace Orchestrator.Contracts;

/// <summary>
/// A recovery's decision: what the hosts said (<see cref="SourcePresence"/>, <see cref="TargetPresence"/>), what the
/// migration does about it (<see cref="Verdict"/>: finish, roll-back or lost) and why, in words an auditor can read.
/// </summary>
public sealed record MigrationReconciled(
    Guid MigrationId,
    string RecoveredFrom,
    string SourcePresence,
    string TargetPresence,
    string Verdict,
    string Evidence,
    string? RequestedBy,
    DateTimeOffset Timestamp) : IMigrationEvent;
