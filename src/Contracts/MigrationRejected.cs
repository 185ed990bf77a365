namespace Orchestrator.Contracts;

/// <summary>A <see cref="StartMigration"/> was refused; nothing was done to the VM.</summary>
/// <param name="ReasonCode">One of <see cref="RejectionCodes"/>, for programs.</param>
/// <param name="Reason">For people: what was wrong and what to do.</param>
public sealed record MigrationRejected(
    Guid MigrationId,
    string? VmId,
    string ReasonCode,
    string Reason,
    DateTimeOffset Timestamp,
    int SchemaVersion = 1) : IMigrationEvent;
