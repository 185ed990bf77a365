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

    sealed class Reporter(ConsumeContext<BeginTransfer> context) : ITransferObserver
    {
        Guid MigrationId => context.Message.MigrationId;

        public object? Outcome { get; private set; }

        public Task RoundCompleted(PreCopyPass pass) => Report(context, MigrationId, new PreCopyRoundCompleted(MigrationId, pass.Round,
            pass.BytesTransferred, pass.BytesRemaining, pass.DirtyRateBytesPerSecond, pass.BandwidthBytesPerSecond,
            pass.ExpectedDowntimeMs, DateTimeOffset.UtcNow, pass.ThrottlePercent));

        public Task StoppedAndCopied(double downtimeMs, long bytesTransferred) =>
            Report(context, MigrationId, new StopAndCopyCompleted(MigrationId, downtimeMs, bytesTransferred, DateTimeOffset.UtcNow));

        public Task SwitchedOver(string runningOn, long totalBytesTransferred)
        {
            // Sent by the base consumer once the driver returns, so it is the last report of the transfer.
            Outcome = new SwitchoverCompleted(MigrationId, runningOn, totalBytesTransferred, DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        }

        public Task PostCopyStarted(string runningOn, long bytesRemaining) =>
            Report(context, MigrationId, new Contracts.Workers.PostCopyStarted(MigrationId, runningOn, bytesRemaining, DateTimeOffset.UtcNow));

        public Task PostCopyRecovered(string runningOn, int attempts, double pausedMs, string detail) =>
            Report(context, MigrationId, new Contracts.Workers.PostCopyRecovered(MigrationId, runningOn, attempts, pausedMs, detail, DateTimeOffset.UtcNow));

        public Task PostCopyCompleted(string runningOn, long totalBytesTransferred, long pageFaults)
        {
            Outcome = new Contracts.Workers.PostCopyCompleted(MigrationId, runningOn, totalBytesTransferred, pageFaults, DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        }
    }
}
