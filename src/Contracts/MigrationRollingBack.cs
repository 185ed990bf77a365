namespace Orchestrator.Contracts;

/// <summary>The migration is being undone: the transfer stops and the target is removed, the VM stays on its source.</summary>
public sealed record MigrationRollingBack(Guid MigrationId, string Reason, bool Cancelled, DateTimeOffset Timestamp) : IMigrationEvent;
