namespace Orchestrator.Contracts;

/// <summary>Asks the orchestrator to finish a migration that is not converging on its own.</summary>
public sealed record ForceCompleteMigration(Guid MigrationId, string? RequestedBy = null, int SchemaVersion = 1);
