namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// A migration waiting for or holding a share of a link: the least bandwidth with which its forecast meets its policy
/// (<see cref="NeededBytesPerSecond"/>), the most its policy lets it use, and its place in line (priority, then deadline,
/// then arrival).
/// </summary>
public sealed record LinkDemand(
    string Id,
    double NeededBytesPerSecond,
    double MaxBytesPerSecond,
    int Priority = 0,
    DateTimeOffset? Deadline = null,
    long Arrival = 0);
