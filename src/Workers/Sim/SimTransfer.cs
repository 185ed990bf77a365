namespace Orchestrator.Workers.Sim;

/// <summary>The limits of a running simulated transfer; the orchestrator changes them while it runs.</summary>
public sealed class SimTransfer(int maxDowntimeMs, int maxBandwidthMiBps) : IDisposable
{
    public CancellationTokenSource Cancellation { get; } = new();
    public volatile int MaxDowntimeMs = maxDowntimeMs;
    public volatile int MaxBandwidthMiBps = maxBandwidthMiBps;
    public volatile int ThrottlePercent;
    public volatile bool PostCopyRequested;

    public void Dispose() => Cancellation.Dispose();
}
