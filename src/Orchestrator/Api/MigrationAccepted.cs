namespace Orchestrator.Api;

/// <summary>The answer to <c>POST /api/migrations</c> (202): the migration's id, the one sent or the one the API chose.</summary>
public sealed record MigrationAccepted(Guid MigrationId);
