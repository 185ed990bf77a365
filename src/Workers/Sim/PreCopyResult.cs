namespace Orchestrator.Workers.Sim;

/// <summary>
/// The outcome of a simulated pre-copy: its passes, the downtime of its stop-and-copy, the total time from the first
/// page to the VM running on the target, the memory bytes and wire bytes sent, and the pages still missing at the stop.
/// </summary>
public sealed record PreCopyResult(
    IReadOnlyList<SimPass> Passes,
    double DowntimeMs,
    double TotalSeconds,
    long TotalBytes,
    long WireBytes,
    (long Hot, long Cold) MissingAtStop);
