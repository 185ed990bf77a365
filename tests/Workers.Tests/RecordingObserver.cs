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

    /// <summary>The disk mirror's reports in order: "started", "progress" and "ready", with their figures.</summary>
    public List<(string Report, long Bytes, long Remaining)> DiskReports { get; } = [];

    public double? DiskMirrorReadyMs { get; private set; }

    public Task DiskMirrorStarted(int disks, long totalBytes)
    {
        lock (DiskReports)
            DiskReports.Add(("started", totalBytes, totalBytes));
        return Task.CompletedTask;
    }

    public Task DiskMirrorProgress(long bytesDone, long bytesRemaining)
    {
        lock (DiskReports)
            DiskReports.Add(("progress", bytesDone, bytesRemaining));
        return Task.CompletedTask;
    }

    public Task DiskMirrorReady(long totalBytes, double elapsedMs)
    {
        lock (DiskReports)
            DiskReports.Add(("ready", totalBytes, 0));
        DiskMirrorReadyMs = elapsedMs;
        return Task.CompletedTask;
    }

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
