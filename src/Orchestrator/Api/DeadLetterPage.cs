namespace Orchestrator.Api;

/// <summary>One page of dead letters, newest first.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetterView> Items, int Page, int PageSize, int Total);
