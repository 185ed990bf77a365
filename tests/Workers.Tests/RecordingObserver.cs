using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Tests;

/// <summary>Keeps what a transfer reported.</summary>
public sealed class RecordingObserver : ITransferObserver
{
    public List<PreCopyPass> Passes { get; } = [];
    public double? DowntimeMs { get; private set; }
    public string? RunningOn { get; private set; }
    public string? PostCopyStartedOn { get; private set; }
    public long TotalBytes { get; private set; }
    public long PageFaults { get; private set; }

    public Task RoundCompleted(PreCopyPass pass)
    {
        Passes.Add(pass);
        return Task.CompletedTask;
    }

    public Task StoppedAndCopied(double downtimeMs, long bytesTransferred)
    {
        DowntimeMs = downtimeMs;
        return Task.CompletedTask;
    }

    public Task SwitchedOver(string runningOn, long totalBytesTransferred)
    {
        RunningOn = runningOn;
        TotalBytes = totalBytesTransferred;
        return Task.CompletedTask;
    }

    public Task PostCopyStarted(string runningOn, long bytesRemaining)
    {
        PostCopyStartedOn = runningOn;
        return Task.CompletedTask;
    }

    public List<string> Recoveries { get; } = [];

    public Task PostCopyRecovered(string runningOn, int attempts, double pausedMs, string detail)
    {
        Recoveries.Add(detail);
        return Task.CompletedTask;
    }

    public Task PostCopyCompleted(string runningOn, long totalBytesTransferred, long pageFaults)
    {
        RunningOn = runningOn;
        TotalBytes = totalBytesTransferred;
        PageFaults = pageFaults;
        return Task.CompletedTask;
    }
}
