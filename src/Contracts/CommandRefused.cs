namespace Orchestrator.Contracts;

/// <summary>An operator command (cancel, force-complete) could not be applied to the migration in its current state.</summary>
public sealed record CommandRefused(Guid MigrationId, string Command, string Reason, DateTimeOffset Timestamp, int SchemaVersion = 1) : IMigrationEvent;
