namespace Orchestrator.ReadModels.Statistics;

/// <summary>Which migrations the statistics cover: by hypervisor, strategy, and when they were requested (since inclusive, until exclusive).</summary>
public sealed record StatisticsFilter(string? Hypervisor = null, string? Strategy = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null);
