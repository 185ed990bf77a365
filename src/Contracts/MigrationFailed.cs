namespace Orchestrator.Contracts;

/// <summary>
/// The migration stopped in a state only an operator can resolve. <see cref="VmRunningOn"/> says where the VM runs as
/// far as the orchestrator knows (null: unknown, the VM may be lost).
/// </summary>
public sealed record MigrationFailed(Guid MigrationId, string Reason, string? VmRunningOn, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
