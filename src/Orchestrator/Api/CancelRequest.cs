namespace Orchestrator.Api;

/// <summary>The optional body of <c>POST /api/migrations/{id}/cancel</c>.</summary>
public sealed record CancelRequest(string? Reason = null);
