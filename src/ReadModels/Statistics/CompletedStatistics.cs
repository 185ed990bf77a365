namespace Orchestrator.ReadModels.Statistics;

/// <summary>
/// Completed migrations of one group: downtime percentiles (interpolated) and the wall-clock time per GiB of VM memory
/// (total duration over total memory; the bytes transferred where the memory size is unknown).
/// </summary>
public sealed record CompletedStatistics(
    string? Hypervisor,
    string? Strategy,
    int Completed,
    double? DowntimeP50Ms,
    double? DowntimeP90Ms,
    double? DowntimeP99Ms,
    double? SecondsPerGiB);
