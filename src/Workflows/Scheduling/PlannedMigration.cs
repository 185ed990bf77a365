namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// One VM of a planned batch as the forecast sees it: its place in line (<see cref="Order"/>, from 1), the bandwidth it
/// starts with, when it is predicted to start and end (seconds from the batch's start), and how it ends.
/// </summary>
public sealed record PlannedMigration(
    string VmId,
    string TargetHost,
    int Order,
    double BandwidthBytesPerSecond,
    double StartSeconds,
    double EndSeconds,
    double DowntimeMs,
    string Outcome,
    int EarlierMigrations);
