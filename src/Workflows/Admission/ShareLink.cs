namespace Orchestrator.Workflows.Admission;

/// <summary>Internal to the workflow: the migration's share of its links changed (sent by the migration that started or ended).</summary>
public sealed record ShareLink(Guid MigrationId, int MaxBandwidthMiBps);
