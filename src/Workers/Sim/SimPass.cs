namespace Orchestrator.Workers.Sim;

/// <summary>
/// One simulated pre-copy pass: it sent <see cref="BytesSent"/> of memory in <see cref="Seconds"/> at
/// <see cref="WireBytesPerSecond"/>, while the guest dirtied <see cref="BytesRemaining"/>. When <see cref="Stop"/> is
/// not <see cref="PreCopyStop.None"/>, stop-and-copy follows.
/// </summary>
public sealed record SimPass(
    int Round,
    long BytesSent,
    long BytesRemaining,
    double Seconds,
    double ExpectedDowntimeMs,
    PreCopyStop Stop,
    long WireBytesPerSecond,
    long DirtyRateBytesPerSecond,
    int ThrottlePercent,
    long WireBytes)
{
    public bool IsLast => Stop != PreCopyStop.None;
}
