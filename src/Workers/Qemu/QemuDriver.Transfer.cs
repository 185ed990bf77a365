using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>The source's transfer: <c>migrate</c>, a pass per <c>MIGRATION_PASS</c>, the outcome, and the steps that steer it on the way.</summary>
public sealed partial class QemuDriver
{
    public async Task MigrateAsync(BeginTransfer command, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var (vm, source, target) = (command.VmId, command.SourceHost, command.TargetHost);
        var sourceState = await hosts.RunStateAsync(source, vm, cancellationToken);
        // The target is usually another worker's (another machine's): only a worker that holds both hosts looks at it.
        if (sourceState is null && hosts.HoldsHost(target) && await hosts.RunStateAsync(target, vm, cancellationToken) == "running")
        {
            // A redelivered BeginTransfer after the switchover and the cleanup: report the outcome again, move nothing.
            await observer.SwitchedOver(target, 0);
            return;
        }
        if (sourceState is not ("running" or "postmigrate"))
            throw new HypervisorStepException($"VM '{vm}' is not running on the source '{source}' (state: {sourceState ?? "no QEMU"}).",
                await WhereIsAsync(vm, cancellationToken));

        var qmp = await hosts.ConnectAsync(source, vm, cancellationToken);
        var events = Channel.CreateUnbounded<QmpEvent>();
        void OnEvent(QmpEvent e) => events.Writer.TryWrite(e);
        qmp.EventReceived += OnEvent;
        try
        {
            await Transfer(command, qmp, sourceState, events.Reader, observer, cancellationToken);
        }
        finally
        {
            qmp.EventReceived -= OnEvent;
        }
    }

    async Task Transfer(BeginTransfer command, QmpClient qmp, string sourceState, ChannelReader<QmpEvent> events, ITransferObserver observer,
        CancellationToken cancellationToken)
    {
        var (vm, source, target) = (command.VmId, command.SourceHost, command.TargetHost);
        // A redelivered BeginTransfer (this worker restarted mid-transfer) finds QEMU still migrating, or done: it
        // follows that migration to its end instead of starting another.
        var current = await QueryMigrate(qmp, cancellationToken);
        var attach = current.IsActive || current.IsPostCopy || current.Status == "completed";
        if (sourceState == "postmigrate" && current.Status != "completed")
            throw new HypervisorStepException($"VM '{vm}' is stopped on the source '{source}' (postmigrate) but QEMU's migration is "
                + $"'{current.Status ?? "none"}', not completed.", await WhereIsAsync(vm, cancellationToken));
        if (!attach && string.IsNullOrWhiteSpace(command.IncomingUri))
            throw new HypervisorStepException($"BeginTransfer of migration {command.MigrationId} carries no IncomingUri: the worker of '{target}' "
                + "did not say where its destination listens (TargetPrepared.IncomingUri), so there is nowhere to send VM "
                + $"'{vm}'. Nothing was moved; it runs on '{source}'.", source);
        var postCopy = attach ? await CapabilityOn(qmp, "postcopy-ram", cancellationToken) : command.AllowPostCopy || command.Strategy == MigrationStrategies.PostCopy;
        var transfer = new QemuTransfer(command.MigrationId, vm, source, target, postCopy) { PostCopyRequested = current.IsPostCopy, Epoch = command.Epoch };
        var disks = hosts.Definition(source, vm)?.LocalDisks ?? [];
        // Following a migration under way: its mirrors (if any) are this VM's disks' ones.
        if (attach)
            transfer.MirrorNodes = [.. disks.Select(MirrorNode)];
        _transfers[command.MigrationId] = transfer;
        try
        {
            if (attach)
                logger.LogInformation("Following the migration of {VmId} already under way ({Status}, pass {Round})", vm, current.Status, current.DirtySyncCount);
            else
            {
                // With local disks the switchover waits at pre-switchover until their mirrors are completed (Follow).
                await SetCapabilities(qmp, cancellationToken, ("events", true), ("postcopy-ram", postCopy),
                    ("auto-converge", command.AllowAutoConverge), ("multifd", command.MultifdChannels > 0), ("xbzrle", command.XbzrleCacheMiB > 0),
                    ("pause-before-switchover", disks.Count > 0));
                // TLS by policy: the source is the client (of the disks' NBD export too), and the target's certificate must
                // name the target host.
                if (command.RequireEncryption)
                    await QemuTls.Install(qmp, options.Value, source, QemuTls.Endpoint.Client, source, cancellationToken);
                if (disks.Count > 0)
                    await MirrorDisks(command, transfer, qmp, disks, events, observer, cancellationToken);
                var parameters = new JsonObject
                {
                    ["downtime-limit"] = Math.Max(1, command.MaxDowntimeMs),
                    ["max-bandwidth"] = Math.Max(1, command.MaxBandwidthMiBps) * MiB,
                    // Post-copy is unlimited by default in QEMU: the policy's bandwidth holds for it too.
                    ["max-postcopy-bandwidth"] = Math.Max(1, command.MaxBandwidthMiBps) * MiB,
                };
                // Both by policy; the destination was prepared with the same multifd channels.
                if (command.MultifdChannels > 0)
                    parameters["multifd-channels"] = command.MultifdChannels;
                if (command.XbzrleCacheMiB > 0)
                    parameters["xbzrle-cache-size"] = command.XbzrleCacheMiB * MiB;
                // Without TLS, an empty tls-creds clears what an earlier encrypted attempt left: plain TCP, as asked.
                parameters["tls-creds"] = command.RequireEncryption ? QemuTls.ObjectId : "";
                parameters["tls-hostname"] = command.RequireEncryption ? target : "";
                await qmp.ExecuteAsync("migrate-set-parameters", parameters, CommandTimeout, cancellationToken);
                transfer.DowntimeLimitMs = Math.Max(1, command.MaxDowntimeMs);
                await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = command.IncomingUri }, CommandTimeout, cancellationToken);
                logger.LogInformation("Migrating {VmId} from {SourceHost} to {TargetHost} ({Uri})", vm, source, target, command.IncomingUri);
            }
            var (roundsDone, transferred) = attach ? ((int)Math.Max(0, current.DirtySyncCount - 1), current.RamTransferred) : (0, 0L);
            await Follow(command, transfer, qmp, events, observer, roundsDone, transferred, cancellationToken);
        }
        catch (QmpConnectionLostException exception)
        {
            throw await Lost(transfer, observer, $"The source QEMU of VM '{vm}' on '{source}' went away during the transfer ({exception.Message}).");
        }
        finally
        {
            _transfers.TryRemove(command.MigrationId, out _);
            // A transfer that ended before its switchover leaves no mirror behind: the source's disks stay the only truth.
            if (transfer.MirrorNodes.Count > 0)
            {
                try
                {
                    await RemoveMirrors(qmp, transfer);
                }
                catch (Exception exception)
                {
                    logger.LogWarning(exception, "Could not remove the disk mirrors of {VmId}", vm);
                }
            }
            // However the transfer ended, the passes QEMU ran are on record, before the step's own outcome.
            if (transfer.HeldPasses.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await ReportHeld(transfer, observer);
                }
                catch (Exception exception)
                {
                    // The step's own outcome, not this, is what the orchestrator must hear.
                    logger.LogWarning(exception, "Could not report {Passes} passes of {VmId}", transfer.HeldPasses.Count, vm);
                }
            }
        }
    }

    static async Task<bool> CapabilityOn(QmpClient qmp, string name, CancellationToken cancellationToken)
    {
        var capabilities = await qmp.ExecuteAsync("query-migrate-capabilities", null, null, cancellationToken);
        return capabilities.EnumerateArray().Any(c => c.GetProperty("capability").GetString() == name && c.GetProperty("state").GetBoolean());
    }

    /// <summary>Follows the migration to its end: a pass per <c>MIGRATION_PASS</c>, then the outcome from <c>query-migrate</c>.</summary>
    async Task Follow(BeginTransfer command, QemuTransfer transfer, QmpClient qmp, ChannelReader<QmpEvent> events,
        ITransferObserver observer, int reportedRounds, long transferredAtLastRound, CancellationToken cancellationToken)
    {
        DateTimeOffset? stoppedAt = null;
        // Whether QEMU said it entered post-copy: a post-copy that began and ended between two queries is still one.
        var sawPostCopy = false;
        while (true)
        {
            var woke = await WaitForEvent(qmp, events, cancellationToken);
            var info = await QueryMigrate(qmp, cancellationToken);
            if (info.Status == "completed")
                // The events QEMU sent before its answer to the query, after the wait had taken the others: whether
                // post-copy ran is all they can still tell (the passes come from QEMU's own sync count below).
                while (events.TryRead(out var late))
                    sawPostCopy |= EnteredPostCopy(late);
            var heldBefore = transfer.HeldPasses.Count;
            foreach (var e in woke)
            {
                if (e.Name == "STOP")
                    stoppedAt = e.Timestamp;
                sawPostCopy |= EnteredPostCopy(e);
                // MIGRATION_PASS n is QEMU's n-th dirty-bitmap sync: pass 1 is the setup, pass n > 1 ends round n - 1.
                if (e.Name != "MIGRATION_PASS" || !e.Data.TryGetProperty("pass", out var p) || p.GetInt32() - 1 is var round && round <= reportedRounds)
                    continue;
                for (var r = reportedRounds + 1; r <= round; r++)
                {
                    var sent = Math.Max(0, info.RamTransferred - transferredAtLastRound);
                    transfer.HeldPasses.Add(new PreCopyPass(r, r == round ? sent : 0, info.RamRemaining, info.DirtyRateBytesPerSecond,
                        info.BandwidthBytesPerSecond, info.ExpectedDowntimeMs, info.ThrottlePercent));
                    transferredAtLastRound = info.RamTransferred;
                }
                reportedRounds = round;
            }
            // A pass whose expected downtime is within the limit is QEMU's last: it stops the VM and copies the rest now.
            // Its report waits for the outcome, so the orchestrator's work on it (a publish, a saga transition, a
            // PostgreSQL commit) does not take CPU from the stop-and-copy. Held one wake-up at most (the next event, or
            // the poll interval): a guess that was wrong costs the policy that much, no more.
            var finishing = info.Status == "active" && !transfer.PostCopyRequested && transfer.DowntimeLimitMs > 0
                && info.ExpectedDowntimeMs <= transfer.DowntimeLimitMs;
            if (!finishing || heldBefore > 0)
                await ReportHeld(transfer, observer);

            if (command.Strategy == MigrationStrategies.PostCopy && transfer.PostCopyEnabled && reportedRounds >= 1
                && !transfer.PostCopyRequested && info.Status == "active")
                await StartPostCopy(qmp, transfer, cancellationToken);

            if ((info.IsPostCopy || sawPostCopy) && !transfer.PostCopyReported)
            {
                transfer.PostCopyReported = true;
                var handoverMs = stoppedAt is { } stop ? Math.Max(0, (DateTimeOffset.UtcNow - stop).TotalMilliseconds) : 0;
                await observer.StoppedAndCopied(handoverMs, info.RamTransferred);
                await observer.PostCopyStarted(transfer.TargetHost, info.RamRemaining);
            }

            switch (info.Status)
            {
                case "completed":
                    await ReportHeld(transfer, observer);
                    var final = await MigrationInfo.FinalAsync(qmp, info, CommandTimeout, cancellationToken);
                    // The last MIGRATION_PASS (the stop-and-copy's sync, which ends the last round) can still be on its
                    // way when query-migrate already says completed: QEMU's own sync count says how many rounds there were.
                    for (var r = reportedRounds + 1; r <= final.DirtySyncCount - 1 && !transfer.PostCopyReported; r++)
                    {
                        await observer.RoundCompleted(new PreCopyPass(r, 0, final.RamRemaining, final.DirtyRateBytesPerSecond,
                            final.BandwidthBytesPerSecond, final.ExpectedDowntimeMs, final.ThrottlePercent));
                        reportedRounds = r;
                    }
                    logger.LogInformation("Migration of {VmId} completed: {Rounds} rounds, downtime {DowntimeMs} ms, total {TotalTimeMs} ms",
                        transfer.VmId, reportedRounds, final.DowntimeMs, final.TotalTimeMs);
                    // Post-copy asked for is not post-copy run: QEMU completes as pre-copy when what is left fits the
                    // downtime before it switches (a VM that stopped dirtying its memory). The orchestrator then hears a
                    // stop-and-copy and a switchover, as for any converged migration, not a post-copy that never started.
                    if (transfer.PostCopyReported)
                    {
                        await observer.PostCopyCompleted(transfer.TargetHost, final.RamTransferred, final.PostCopyRequests);
                        return;
                    }
                    await observer.StoppedAndCopied(final.DowntimeMs, Math.Max(0, final.RamTransferred - transferredAtLastRound));
                    await observer.SwitchedOver(transfer.TargetHost, final.RamTransferred);
                    return;
                case "pre-switchover" when !transfer.SwitchoverContinued:
                    // Only with local disks (pause-before-switchover): both sides are stopped; the mirrors complete first.
                    await CompleteMirrors(transfer, qmp, cancellationToken);
                    transfer.SwitchoverContinued = true;
                    await qmp.ExecuteAsync("migrate-continue", new JsonObject { ["state"] = "pre-switchover" }, CommandTimeout, cancellationToken);
                    break;
                case "postcopy-paused":
                    // The link broke after the switch: while both QEMUs live, resume it on a new connection.
                    await RecoverPostCopy(transfer, qmp, info, observer, cancellationToken);
                    break;
                case "failed":
                    throw await Lost(transfer, observer, $"QEMU reports the migration of VM '{transfer.VmId}' {info.Status}: {info.Error ?? "no reason given"}.");
                case "cancelled":
                    if (transfer.AbortRequested)
                        throw new OperationCanceledException($"The migration of VM '{transfer.VmId}' was cancelled on request.");
                    throw new HypervisorStepException($"The migration of VM '{transfer.VmId}' was cancelled outside the orchestrator.", transfer.SourceHost);
            }
        }
    }

    static bool EnteredPostCopy(QmpEvent e) =>
        e.Name == "MIGRATION" && e.Data.TryGetProperty("status", out var status) && status.GetString() == "postcopy-active";

    static async Task ReportHeld(QemuTransfer transfer, ITransferObserver observer)
    {
        foreach (var pass in transfer.HeldPasses)
            await observer.RoundCompleted(pass);
        transfer.HeldPasses.Clear();
    }

    /// <summary>The next batch of events, or an empty one after the poll interval; throws when the connection is gone.</summary>
    async Task<List<QmpEvent>> WaitForEvent(QmpClient qmp, ChannelReader<QmpEvent> events, CancellationToken cancellationToken)
    {
        var batch = new List<QmpEvent>();
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        poll.CancelAfter(options.Value.PollInterval);
        try
        {
            var available = events.WaitToReadAsync(poll.Token).AsTask();
            await Task.WhenAny(available, qmp.Closed);
            if (!available.IsCompleted && qmp.Closed.IsCompleted)
                throw new QmpConnectionLostException(qmp.SocketPath);
            await available;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Poll interval: query anyway.
        }
        while (events.TryRead(out var e))
            batch.Add(e);
        return batch;
    }

    async Task StartPostCopy(QmpClient qmp, QemuTransfer transfer, CancellationToken cancellationToken)
    {
        // Marked first: from the moment QEMU may act on it, a cancel would lose the VM.
        transfer.PostCopyRequested = true;
        await qmp.ExecuteAsync("migrate-start-postcopy", null, CommandTimeout, cancellationToken);
        logger.LogInformation("Switched the migration of {VmId} to post-copy", transfer.VmId);
    }

    /// <summary>
    /// A failed transfer. A source that still runs holds the VM (the failure came before the switch, even when post-copy
    /// had been asked for). Otherwise, after <c>migrate-start-postcopy</c>, neither side holds the whole VM: the saga
    /// hears that post-copy started (if it had not yet) and that the VM is lost.
    /// </summary>
    async Task<HypervisorStepException> Lost(QemuTransfer transfer, ITransferObserver observer, string reason)
    {
        var sourceState = await hosts.RunStateAsync(transfer.SourceHost, transfer.VmId, CancellationToken.None);
        if (sourceState == "running")
            return new HypervisorStepException(reason, transfer.SourceHost);
        if (!transfer.PostCopyRequested)
            return new HypervisorStepException($"{reason} The source QEMU is {sourceState ?? "gone"}.", null);
        if (!transfer.PostCopyReported)
        {
            transfer.PostCopyReported = true;
            await observer.PostCopyStarted(transfer.TargetHost, 0);
        }
        return new HypervisorStepException($"{reason} Post-copy had started: neither host holds the whole VM; VM '{transfer.VmId}' is lost.", null);
    }

    public async Task AdjustAsync(AdjustTransfer command, CancellationToken cancellationToken)
    {
        if (!hosts.IsAlive(command.Host, command.VmId))
            return;
        var parameters = new JsonObject();
        if (command.MaxDowntimeMs is { } downtime)
            parameters["downtime-limit"] = Math.Max(1, downtime);
        if (command.MaxBandwidthMiBps is { } bandwidth)
        {
            parameters["max-bandwidth"] = Math.Max(1, bandwidth) * MiB;
            parameters["max-postcopy-bandwidth"] = Math.Max(1, bandwidth) * MiB;
        }
        // QEMU throttles the vCPUs itself once auto-converge is on (set before migrate, by policy); the orchestrator's
        // step sets where its throttling starts.
        if (command.ThrottlePercent is > 0 and var throttle)
            parameters["cpu-throttle-initial"] = Math.Clamp(throttle, 1, 99);
        if (parameters.Count == 0)
            return;
        var qmp = await hosts.ConnectAsync(command.Host, command.VmId, cancellationToken);
        await qmp.ExecuteAsync("migrate-set-parameters", parameters, CommandTimeout, cancellationToken);
        if (command.MaxDowntimeMs is { } limit && _transfers.TryGetValue(command.MigrationId, out var transfer))
            transfer.DowntimeLimitMs = Math.Max(1, limit);
    }

    public async Task SwitchToPostCopyAsync(SwitchToPostCopy command, CancellationToken cancellationToken)
    {
        if (!_transfers.TryGetValue(command.MigrationId, out var transfer))
            throw new HypervisorStepException($"No transfer of VM '{command.VmId}' runs on '{command.Host}' to switch to post-copy.",
                await WhereIsAsync(command.VmId, cancellationToken));
        if (!transfer.PostCopyEnabled)
            throw new HypervisorStepException($"The transfer of VM '{command.VmId}' was started without post-copy (the policy does not allow it).", command.Host);
        if (transfer.PostCopyRequested)
            return;
        await StartPostCopy(await hosts.ConnectAsync(command.Host, command.VmId, cancellationToken), transfer, cancellationToken);
    }
}
