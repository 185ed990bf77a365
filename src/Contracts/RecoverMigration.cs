namespace Orchestrator.Contracts;

/// <summary>
/// Asks the orchestrator to find out where the VM of a migration really runs (it asks the workers of both hosts) and to
/// drive the migration to the terminal state that answer implies: finished, rolled back, or failed with the VM lost.
/// Accepted in every state from Preparing on, Failed included; refused before any host was touched and after a clean end.
/// </summary>
public sealed record RecoverMigration(Guid MigrationId, string? RequestedBy = null, int SchemaVersion = 1);
