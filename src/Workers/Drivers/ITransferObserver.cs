namespace Orchestrator.Workers.Drivers;

/// <summary>Receives a transfer's progress as the driver sees it happen.</summary>
public interface ITransferObserver
{
    Task RoundCompleted(PreCopyPass pass);

    Task StoppedAndCopied(double downtimeMs, long bytesTransferred);

    Task SwitchedOver(string runningOn, long totalBytesTransferred);
}
