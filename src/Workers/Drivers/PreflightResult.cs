namespace Orchestrator.Workers.Drivers;

/// <summary>A pre-flight verdict: <see cref="Problem"/> is null when the migration can go ahead.</summary>
public sealed record PreflightResult(string? Problem, long MemoryBytes, double? PredictedDowntimeMs)
{
    public bool Passed => Problem is null;
}
