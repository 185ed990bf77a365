namespace Orchestrator.Workflows.Admission;

/// <summary>A migration as admission sees it: where it moves a VM from and to, and how urgent it is.</summary>
public sealed record AdmissionEntry(Guid MigrationId, string SourceHost, string TargetHost, int Priority, DateTimeOffset RequestedAt);
