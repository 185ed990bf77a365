namespace Orchestrator.Workers.Drivers;

/// <summary>Receives a transfer's progress as the driver sees it happen.</summary>
public interface ITransferObserver
{
    /// <summary>The VM's local disks began to be mirrored to the target (before the memory moves).</summary>
    Task DiskMirrorStarted(int disks, long totalBytes);

    /// <summary>How far the disk mirror got.</summary>
    Task DiskMirrorProgress(long bytesDone, long bytesRemaining);

    /// <summary>Every disk is mirrored and kept in step with the guest's writes; the memory transfer begins.</summary>
    Task DiskMirrorReady(long totalBytes, double elapsedMs);

    Task RoundCompleted(PreCopyPass pass);

    Task StoppedAndCopied(double downtimeMs, long bytesTransferred);

    /// <summary>Pre-copy path: the VM runs on the target and the source holds nothing it needs.</summary>
    Task SwitchedOver(string runningOn, long totalBytesTransferred);

    /// <summary>Post-copy path: the VM resumed on the target and pulls its remaining pages on demand.</summary>
    Task PostCopyStarted(string runningOn, long bytesRemaining);

    /// <summary>Post-copy path: the link broke and was resumed on a new connection; the migration goes on.</summary>
    Task PostCopyRecovered(string runningOn, int attempts, double pausedMs, string detail);

    /// <summary>Post-copy path: every page reached the target.</summary>
    Task PostCopyCompleted(string runningOn, long totalBytesTransferred, long pageFaults);
}
