namespace Orchestrator.Workers.Drivers;

/// <summary>
/// A pre-flight verdict: <see cref="Problem"/> is null when the migration can go ahead. <see cref="VmDefinition"/>: the
/// VM as this hypervisor describes it, for the target's worker to start the destination with (null: none needed).
/// <see cref="DiskBytes"/>: its local disks, which the migration mirrors too (0: none).
/// </summary>
public sealed record PreflightResult(string? Problem, long MemoryBytes, double? PredictedDowntimeMs, string? VmDefinition = null, long DiskBytes = 0)
{
    public bool Passed => Problem is null;
}
