namespace Orchestrator.Workflows.Outbox;

/// <summary>
/// Internal to the workflow: a <c>StartMigration</c> whose transaction failed for good was set aside as a
/// <see cref="DeadLetter"/> (its id); the migration it named is rejected with the reason, without the values that broke it.
/// </summary>
public sealed record StartGivenUp(Guid MigrationId, Guid MessageId, string Queue, string Reason);
