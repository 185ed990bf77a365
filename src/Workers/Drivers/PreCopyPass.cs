namespace Orchestrator.Workers.Drivers;

/// <summary>One pre-copy pass as a driver measured it.</summary>
public sealed record PreCopyPass(
    int Round,
    long BytesTransferred,
    long BytesRemaining,
    long DirtyRateBytesPerSecond,
    long BandwidthBytesPerSecond,
    double ExpectedDowntimeMs,
    int ThrottlePercent = 0);
