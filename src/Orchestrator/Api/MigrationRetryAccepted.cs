namespace Orchestrator.Api;

/// <summary>The answer to <c>POST /api/migrations/{id}/retry</c> (202): the new migration's id and the one it retries.</summary>
public sealed record MigrationRetryAccepted(Guid MigrationId, Guid RetryOf);
