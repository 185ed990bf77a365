namespace Orchestrator.Api;

/// <summary>The answer to <c>POST /api/drains</c> (202): the drain's id, the one sent or the one the API chose.</summary>
public sealed record DrainAccepted(Guid DrainId);
