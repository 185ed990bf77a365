namespace Orchestrator.Contracts.Workers;

/// <summary>Worker report: the migration cannot go ahead as asked; <see cref="Reason"/> says why, with the prediction where one was made.</summary>
public sealed record PreflightFailed(Guid MigrationId, string Reason, double? PredictedDowntimeMs, DateTimeOffset Timestamp) : IMigrationEvent;
