using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Consumers;

/// <summary>Runs a whole transfer, reporting each pass, the stop-and-copy and the switchover as they happen.</summary>
public sealed class BeginTransferConsumer(IHypervisorDriver driver, EpochFence fence, ActiveTransfers transfers,
    ILogger<BeginTransferConsumer> logger)
    : WorkerCommandConsumer<BeginTransfer>(fence, logger)
{
    protected override string Step => MigrationSteps.Transfer;

    protected override async Task<object?> Run(ConsumeContext<BeginTransfer> context)
    {
        var observer = new Reporter(context);
        // While it runs, the transfer is in this worker's heartbeats (HeartbeatSender).
        using var alive = transfers.Begin(context.Message.MigrationId, context.Message.SourceHost);
        try
        {
            await driver.MigrateAsync(context.Message, observer, context.CancellationToken);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            // Aborted on request: the abort consumer reports it; this transfer ends without a report of its own.
        }

        return observer.Outcome;
    }

    /// <summary>Turns the driver's progress into reports, numbered in the order they are made (<see cref="ISequencedReport"/>).</summary>
    sealed class Reporter(ConsumeContext<BeginTransfer> context) : ITransferObserver
    {
        int _sequence;

        Guid MigrationId => context.Message.MigrationId;

        public object? Outcome { get; private set; }

        int Next() => Interlocked.Increment(ref _sequence);

        public Task DiskMirrorStarted(int disks, long totalBytes) =>
            Report(context, MigrationId, new Contracts.Workers.DiskMirrorStarted(MigrationId, disks, totalBytes, DateTimeOffset.UtcNow, Next()));

        public Task DiskMirrorProgress(long bytesDone, long bytesRemaining) =>
            Report(context, MigrationId, new Contracts.Workers.DiskMirrorProgress(MigrationId, bytesDone, bytesRemaining, DateTimeOffset.UtcNow, Next()));

        public Task DiskMirrorReady(long totalBytes, double elapsedMs) =>
            Report(context, MigrationId, new Contracts.Workers.DiskMirrorReady(MigrationId, totalBytes, elapsedMs, DateTimeOffset.UtcNow, Next()));

        public Task RoundCompleted(PreCopyPass pass) => Report(context, MigrationId, new PreCopyRoundCompleted(MigrationId, pass.Round,
            pass.BytesTransferred, pass.BytesRemaining, pass.DirtyRateBytesPerSecond, pass.BandwidthBytesPerSecond,
            pass.ExpectedDowntimeMs, DateTimeOffset.UtcNow, pass.ThrottlePercent, Next()));

        public Task StoppedAndCopied(double downtimeMs, long bytesTransferred) =>
            Report(context, MigrationId, new StopAndCopyCompleted(MigrationId, downtimeMs, bytesTransferred, DateTimeOffset.UtcNow, Next()));

        public Task SwitchedOver(string runningOn, long totalBytesTransferred)
        {
            // Sent by the base consumer once the driver returns, so it is the last report of the transfer.
            Outcome = new SwitchoverCompleted(MigrationId, runningOn, totalBytesTransferred, DateTimeOffset.UtcNow, Next());
            return Task.CompletedTask;
        }

        public Task PostCopyStarted(string runningOn, long bytesRemaining) =>
            Report(context, MigrationId, new Contracts.Workers.PostCopyStarted(MigrationId, runningOn, bytesRemaining, DateTimeOffset.UtcNow, Next()));

        public Task PostCopyRecovered(string runningOn, int attempts, double pausedMs, string detail) =>
            Report(context, MigrationId, new Contracts.Workers.PostCopyRecovered(MigrationId, runningOn, attempts, pausedMs, detail, DateTimeOffset.UtcNow, Next()));

        public Task PostCopyCompleted(string runningOn, long totalBytesTransferred, long pageFaults)
        {
            Outcome = new Contracts.Workers.PostCopyCompleted(MigrationId, runningOn, totalBytesTransferred, pageFaults, DateTimeOffset.UtcNow, Next());
            return Task.CompletedTask;
        }
    }
}
