namespace Orchestrator.Workflows.Admission;

/// <summary>Internal to the workflow: a queued migration got a slot (sent by the migration that freed it).</summary>
public sealed record AdmitMigration(Guid MigrationId);
