namespace Orchestrator.Contracts;

/// <summary>
/// A valid <see cref="StartMigration"/> was accepted; <see cref="Policy"/> holds the values in force and
/// <see cref="PolicyName"/> the named policy that supplied those the sender left out (null: the defaults).
/// </summary>
public sealed record MigrationRequested(
    Guid MigrationId,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Hypervisor,
    string Strategy,
    MigrationPolicy Policy,
    string? RequestedBy,
    DateTimeOffset Timestamp,
    string? PolicyName = null,
    DateTimeOffset? Deadline = null,
    int SchemaVersion = 1) : IMigrationEvent;
