namespace Orchestrator.Contracts;

/// <summary>Asks the orchestrator to stop a migration and leave the VM running on its source.</summary>
public sealed record CancelMigration(Guid MigrationId, string? Reason = null, string? RequestedBy = null, int SchemaVersion = 1);
