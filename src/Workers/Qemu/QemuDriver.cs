using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// Real QEMU live migration over QMP, the way libvirt drives it underneath: the destination waits with
/// <c>-incoming defer</c> + <c>migrate-incoming</c>; the source gets its capabilities and parameters, then
/// <c>migrate</c>; every <c>MIGRATION_PASS</c> becomes a reported pass with QEMU's own numbers; the downtime, total time
/// and bytes at the end are QEMU's. After <c>migrate-start-postcopy</c> the migration is never cancelled: neither side
/// alone holds the VM, so a failure there reports the VM lost.
/// </summary>
public sealed partial class QemuDriver(QemuHosts hosts, IOptions<QemuOptions> options, ILogger<QemuDriver> logger,
    IDestinationWorkers? destinations = null) : IHypervisorDriver
{
    const long MiB = 1024 * 1024;
    readonly ConcurrentDictionary<Guid, QemuTransfer> _transfers = new();

    public string Kind => HypervisorKinds.Qemu;

    TimeSpan CommandTimeout => options.Value.CommandTimeout;

    public async Task<PreflightResult> PreflightAsync(CheckMigration command, CancellationToken cancellationToken)
    {
        var definition = hosts.Definition(command.SourceHost, command.VmId);
        var memory = definition?.MemoryBytes ?? 0;
        if (command.Hypervisor != Kind)
            return new($"This worker serves '{Kind}' hosts; the migration asks for '{command.Hypervisor}'.", memory, null);
        if (command.SourceHost == command.TargetHost)
            return new($"Source and target are the same host '{command.SourceHost}'.", memory, null);
        var sourceState = await hosts.RunStateAsync(command.SourceHost, command.VmId, cancellationToken);
        if (definition is null || sourceState != "running")
        {
            var where = await WhereIsAsync(command.VmId, cancellationToken);
            return new($"VM '{command.VmId}' does not run on the source '{command.SourceHost}' "
                + $"({(where is null ? "no host runs it" : $"it runs on '{where}'")}).", memory, null);
        }
        if (await hosts.RunStateAsync(command.TargetHost, command.VmId, cancellationToken) == "running")
            return new($"Target '{command.TargetHost}' already runs VM '{command.VmId}'.", memory, null);

        // Before the first pass only the memory size is known: the downtime if the whole RAM had to move while stopped
        // is an upper bound; QEMU measures the real dirty rate during the transfer and the policy acts on it.
        var bandwidth = Math.Max(1, command.MaxBandwidthMiBps) * (double)MiB;
        // The target's worker starts the destination from this definition: it may not see this host's files.
        return new(null, memory, Math.Round(memory / bandwidth * 1000, 1), definition.ToJson(indented: false));
    }

    public async Task<TargetPreparation> PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken)
    {
        var (vm, target) = (command.VmId, command.TargetHost);
        var incomingFile = IncomingFile(target, vm);
        if (hosts.IsAlive(target, vm))
        {
            if (IncomingMigration.Read(incomingFile) is { } waiting && waiting.MigrationId == command.MigrationId)
                return new(waiting.Uri); // A redelivered PrepareTarget: the destination is already waiting there.
            if (await hosts.RunStateAsync(target, vm, cancellationToken) is "running")
                throw new HypervisorStepException($"VM '{vm}' already runs on '{target}'.", target);
            logger.LogWarning("Replacing a leftover destination of VM {VmId} on {Host}", vm, target);
            await hosts.KillAsync(target, vm);
        }
        var definition = DefinitionFor(command);
        // The target's own worker knows its room: Qemu:HostMemoryMiB minus every live QEMU there, else MemAvailable.
        var free = await FreeMemory(target, cancellationToken);
        if (definition.MemoryBytes > free)
            throw new HypervisorStepException($"Target '{target}' has {free / (double)MiB:0.#} MiB free; VM '{vm}' needs "
                + $"{definition.MemoryBytes / (double)MiB:0.#} MiB. Nothing was started there; the VM runs on '{command.SourceHost}'.", command.SourceHost);

        await hosts.StartAsync(target, vm, definition, incoming: true, cancellationToken);
        var qmp = await hosts.ConnectAsync(target, vm, cancellationToken);
        // postcopy-ram must be on on both sides before migrate; on the destination alone it changes nothing, so it is
        // always on: the source decides by policy.
        await SetCapabilities(qmp, cancellationToken, ("events", true), ("postcopy-ram", true), ("multifd", command.MultifdChannels > 0));
        // multifd: the destination must expect the source's channels before it listens.
        if (command.MultifdChannels > 0)
            await qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["multifd-channels"] = command.MultifdChannels }, CommandTimeout, cancellationToken);
        var uri = ListenUri();
        await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri }, CommandTimeout, cancellationToken);
        await File.WriteAllTextAsync(incomingFile, new IncomingMigration(command.MigrationId, uri).ToJson(), cancellationToken);
        logger.LogInformation("Destination of {VmId} waits on {Host} at {Uri}", vm, target, uri);
        return new(uri);
    }

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
        _transfers[command.MigrationId] = transfer;
        try
        {
            if (attach)
                logger.LogInformation("Following the migration of {VmId} already under way ({Status}, pass {Round})", vm, current.Status, current.DirtySyncCount);
            else
            {
                await SetCapabilities(qmp, cancellationToken, ("events", true), ("postcopy-ram", postCopy),
                    ("auto-converge", command.AllowAutoConverge), ("multifd", command.MultifdChannels > 0), ("xbzrle", command.XbzrleCacheMiB > 0));
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
        while (true)
        {
            var woke = await WaitForEvent(qmp, events, cancellationToken);
            var info = await QueryMigrate(qmp, cancellationToken);
            var heldBefore = transfer.HeldPasses.Count;
            foreach (var e in woke)
            {
                if (e.Name == "STOP")
                    stoppedAt = e.Timestamp;
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

            if (info.IsPostCopy && !transfer.PostCopyReported)
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
                    if (transfer.PostCopyReported || transfer.PostCopyRequested)
                    {
                        await observer.PostCopyCompleted(transfer.TargetHost, final.RamTransferred, final.PostCopyRequests);
                        return;
                    }
                    await observer.StoppedAndCopied(final.DowntimeMs, Math.Max(0, final.RamTransferred - transferredAtLastRound));
                    await observer.SwitchedOver(transfer.TargetHost, final.RamTransferred);
                    return;
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

    async Task<MigrationInfo> QueryMigrate(QmpClient qmp, CancellationToken cancellationToken) =>
        MigrationInfo.Parse(await qmp.ExecuteAsync("query-migrate", null, CommandTimeout, cancellationToken));

    async Task StartPostCopy(QmpClient qmp, QemuTransfer transfer, CancellationToken cancellationToken)
    {
        // Marked first: from the moment QEMU may act on it, a cancel would lose the VM.
        transfer.PostCopyRequested = true;
        await qmp.ExecuteAsync("migrate-start-postcopy", null, CommandTimeout, cancellationToken);
        logger.LogInformation("Switched the migration of {VmId} to post-copy", transfer.VmId);
    }

    /// <summary>
    /// Post-copy recovery after a broken link, as QEMU documents it: on the destination <c>migrate-recover</c> on a fresh
    /// port, then on the source <c>migrate</c> with <c>resume</c>; returns once the source says <c>postcopy-active</c> (or
    /// <c>completed</c>) again. Bounded by <see cref="QemuOptions.PostCopyRecoveryAttempts"/> and
    /// <see cref="QemuOptions.PostCopyRecoveryTimeout"/>; a side whose QEMU is gone, or attempts that run out, report the
    /// VM lost with what was tried. Never <c>migrate_cancel</c>: in post-copy that would lose the VM on both sides.
    /// </summary>
    async Task RecoverPostCopy(QemuTransfer transfer, QmpClient source, MigrationInfo paused, ITransferObserver observer,
        CancellationToken cancellationToken)
    {
        var (vm, target) = (transfer.VmId, transfer.TargetHost);
        var pausedAt = DateTime.UtcNow;
        var deadline = pausedAt + options.Value.PostCopyRecoveryTimeout;
        var cause = $"QEMU on {transfer.SourceHost} reports the post-copy of VM '{vm}' postcopy-paused ({paused.Error ?? "no reason given"})";
        logger.LogWarning("Post-copy of {VmId} paused on {SourceHost}: resuming it", vm, transfer.SourceHost);
        // The destination's QEMU is this worker's when it serves both hosts; else the target host's worker is asked.
        var local = hosts.HoldsHost(target);
        if (!local && destinations is null)
            throw await Lost(transfer, observer, $"{cause}. Resuming it needs migrate-recover on the destination's QEMU on {target}, which "
                + "another worker serves, and this worker has no bus to ask it: no recovery was tried.");
        var tried = new List<string>();
        string? uri = null;
        var attempt = 0;
        while (attempt < options.Value.PostCopyRecoveryAttempts && DateTime.UtcNow < deadline)
        {
            attempt++;
            if (!hosts.IsAlive(transfer.SourceHost, vm) || (local && !hosts.IsAlive(target, vm)))
            {
                var gone = hosts.IsAlive(transfer.SourceHost, vm) ? $"the destination QEMU on {target}" : $"the source QEMU on {transfer.SourceHost}";
                tried.Add($"attempt {attempt}: {gone} is gone");
                break;
            }
            var attemptEnds = Min(deadline, DateTime.UtcNow + CommandTimeout);
            try
            {
                var request = new ListenForPostCopyRecovery(transfer.MigrationId, transfer.Epoch, vm, target,
                    (int)Math.Max(1, (attemptEnds - DateTime.UtcNow).TotalMilliseconds), uri);
                var listening = local
                    ? await ListenForPostCopyRecoveryAsync(request, cancellationToken)
                    : await destinations!.ListenForPostCopyRecoveryAsync(request, cancellationToken);
                if (listening.Note is not null)
                    tried.Add($"attempt {attempt}: {listening.Note}");
                if (listening.DestinationGone)
                {
                    tried.Add($"attempt {attempt}: {listening.Problem}");
                    break;
                }
                uri = listening.Uri ?? throw new HypervisorStepException(listening.Problem ?? $"the worker of {target} named no URI", null);
                await source.ExecuteAsync("migrate", new JsonObject { ["uri"] = uri, ["resume"] = true }, CommandTimeout, cancellationToken);
                var resumed = await WaitForStatus(source, s => s is "postcopy-active" or "completed" or "failed", attemptEnds, cancellationToken);
                if (resumed.Status is "postcopy-active" or "completed")
                {
                    var pausedMs = (DateTime.UtcNow - pausedAt).TotalMilliseconds;
                    var detail = $"{cause}; migrate-recover on {target} at {uri}, migrate resume on {transfer.SourceHost}: "
                        + $"{resumed.Status} after {attempt} attempt(s), {pausedMs:0} ms paused"
                        + (tried.Count > 0 ? $" ({string.Join("; ", tried)})" : "");
                    logger.LogInformation("Post-copy of {VmId} resumed to {TargetHost} after {Attempts} attempts, {PausedMs} ms paused", vm, target, attempt, Math.Round(pausedMs));
                    await observer.PostCopyRecovered(target, attempt, Math.Round(pausedMs, 1), detail);
                    return;
                }
                tried.Add($"attempt {attempt}: the source went {resumed.Status} ({resumed.Error ?? "no reason given"})");
                if (resumed.Status == "failed")
                    break;
            }
            catch (Exception exception) when (exception is QmpException or TimeoutException or IOException or HypervisorStepException)
            {
                tried.Add($"attempt {attempt}: {exception.Message}");
            }
        }
        throw await Lost(transfer, observer, $"{cause}. Recovery (migrate-recover on {target}, migrate resume on {transfer.SourceHost}) "
            + $"failed after {attempt} attempt(s) in {(DateTime.UtcNow - pausedAt).TotalSeconds:0.#} s: {string.Join("; ", tried)}.");
    }

    /// <summary>Polls <c>query-migrate</c> until <paramref name="done"/> says yes or <paramref name="until"/> passes; returns the last answer.</summary>
    /// <summary>
    /// The destination's part of one recovery attempt: wait for the destination to see the break itself, then
    /// <c>migrate-recover</c> on a fresh port (or, when QEMU says a recovery listens already, the earlier attempt's URI).
    /// </summary>
    public async Task<PostCopyRecoveryListening> ListenForPostCopyRecoveryAsync(ListenForPostCopyRecovery command, CancellationToken cancellationToken)
    {
        var (vm, target, id) = (command.VmId, command.TargetHost, command.MigrationId);
        if (!hosts.IsAlive(target, vm))
            return new(id, null, $"the destination QEMU on {target} is gone", DestinationGone: true);
        var destination = await hosts.ConnectAsync(target, vm, cancellationToken);
        var incoming = await WaitForStatus(destination, s => s is "postcopy-paused" or "postcopy-recover" or "postcopy-active" or "completed",
            DateTime.UtcNow + TimeSpan.FromMilliseconds(command.WaitMs), cancellationToken);
        string? note = null;
        if (incoming.Status == "postcopy-paused")
        {
            try
            {
                var fresh = ListenUri();
                await destination.ExecuteAsync("migrate-recover", new JsonObject { ["uri"] = fresh }, CommandTimeout, cancellationToken);
                await File.WriteAllTextAsync(IncomingFile(target, vm), new IncomingMigration(id, fresh).ToJson(), cancellationToken);
                logger.LogInformation("Destination of {VmId} on {Host} listens for the resumed post-copy at {Uri}", vm, target, fresh);
                return new(id, fresh);
            }
            catch (QmpException exception) when (command.PreviousUri is not null)
            {
                // An earlier attempt's migrate-recover still listens ("triggered already"): resume to it.
                note = $"migrate-recover answered '{exception.Description}', resuming to {command.PreviousUri}";
            }
        }
        return command.PreviousUri is null
            ? new(id, null, $"the destination is {incoming.Status}, not postcopy-paused, and no recovery listens")
            : new(id, command.PreviousUri, null, note);
    }

    async Task<MigrationInfo> WaitForStatus(QmpClient qmp, Func<string, bool> done, DateTime until, CancellationToken cancellationToken)
    {
        var info = await QueryMigrate(qmp, cancellationToken);
        while (!done(info.Status) && DateTime.UtcNow < until)
        {
            await Task.Delay(20, cancellationToken);
            info = await QueryMigrate(qmp, cancellationToken);
        }
        return info;
    }

    static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

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

    public async Task AbortAsync(AbortTransfer command, CancellationToken cancellationToken)
    {
        var (vm, source) = (command.VmId, command.Host);
        _transfers.TryGetValue(command.MigrationId, out var transfer);
        if (transfer?.PostCopyRequested == true)
            throw new HypervisorStepException($"The migration of VM '{vm}' is in post-copy: cancelling it now would lose the VM on both hosts.", transfer.TargetHost);
        if (!hosts.IsAlive(source, vm))
            throw new HypervisorStepException($"The source '{source}' runs no QEMU for VM '{vm}': nothing to keep running.",
                await WhereIsAsync(vm, cancellationToken));

        var qmp = await hosts.ConnectAsync(source, vm, cancellationToken);
        var info = await QueryMigrate(qmp, cancellationToken);
        if (info.IsPostCopy)
            throw new HypervisorStepException($"The migration of VM '{vm}' is in post-copy ({info.Status}): it cannot be cancelled.", transfer?.TargetHost);
        if (info.Status == "completed")
            throw new HypervisorStepException($"VM '{vm}' already moved: the migration completed and cannot be undone.",
                await WhereIsAsync(vm, cancellationToken));
        if (transfer is not null)
            transfer.AbortRequested = true;
        if (info.IsActive)
            await qmp.ExecuteAsync("migrate_cancel", null, CommandTimeout, cancellationToken);

        var deadline = DateTime.UtcNow + CommandTimeout;
        while (info.IsActive && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken);
            info = await QueryMigrate(qmp, cancellationToken);
        }
        if (info.Status == "completed")
            throw new HypervisorStepException($"VM '{vm}' moved before the cancel reached it.", await WhereIsAsync(vm, cancellationToken));
        var state = await hosts.RunStateAsync(source, vm, cancellationToken);
        if (state is "paused" or "postmigrate")
        {
            // A migration that failed in its last phase can leave the source stopped: it holds the whole VM, so resume it.
            await qmp.ExecuteAsync("cont", null, CommandTimeout, cancellationToken);
            state = await hosts.RunStateAsync(source, vm, cancellationToken);
        }
        if (state != "running")
            throw new HypervisorStepException($"After the abort VM '{vm}' is '{state ?? "gone"}' on '{source}', not running.", null);
        logger.LogInformation("Migration of {VmId} aborted ({Status}); it runs on {SourceHost}", vm, info.Status, source);
    }

    public async Task DestroyTargetAsync(DestroyTarget command, CancellationToken cancellationToken)
    {
        var (vm, target) = (command.VmId, command.Host);
        if (await hosts.RunStateAsync(target, vm, cancellationToken) == "running"
            && IncomingMigration.Read(IncomingFile(target, vm)) is { } incoming && incoming.MigrationId == command.MigrationId)
        {
            var where = await WhereIsAsync(vm, cancellationToken);
            if (where == target)
                throw new HypervisorStepException($"VM '{vm}' runs on '{target}': destroying it there would lose it.", target);
        }
        await hosts.KillAsync(target, vm);
    }

    public async Task CleanupSourceAsync(CleanupSource command, CancellationToken cancellationToken)
    {
        var (vm, source) = (command.VmId, command.Host);
        if (await hosts.RunStateAsync(source, vm, cancellationToken) == "running")
            throw new HypervisorStepException($"VM '{vm}' still runs on '{source}': the source is not cleaned up while it holds the VM.", source);
        await hosts.QuitAsync(source, vm, TimeSpan.FromSeconds(2), cancellationToken);
    }

    /// <summary>
    /// The host whose QEMU runs the VM: <c>query-status</c> says <c>running</c> and, on a destination, the incoming
    /// migration is not stuck in <c>postcopy-paused</c> (whose guest only looks running: it waits for pages forever).
    /// </summary>
    public async Task<string?> WhereIsAsync(string vmId, CancellationToken cancellationToken)
    {
        foreach (var host in hosts.HostsWith(vmId))
        {
            if (await RunsOn(host, vmId, cancellationToken))
                return host;
        }
        return null;
    }

    async Task<bool> RunsOn(string host, string vmId, CancellationToken cancellationToken)
    {
        if (await hosts.RunStateAsync(host, vmId, cancellationToken) != "running")
            return false;
        var qmp = await hosts.ConnectAsync(host, vmId, cancellationToken);
        var migration = await QueryMigrate(qmp, cancellationToken);
        return migration.Status is not ("postcopy-paused" or "postcopy-recover");
    }

    /// <summary>
    /// The truth query of a recovery, from QEMU's own words on <paramref name="host"/>: <c>query-status</c> and, where the
    /// VM takes part in a migration, <c>query-migrate</c>. A destination in <c>postcopy-paused</c> looks running but waits
    /// for pages for ever: it is paused. No QEMU process for the VM: absent.
    /// </summary>
    public async Task<VmInspection> InspectAsync(string vmId, string host, CancellationToken cancellationToken)
    {
        if (!hosts.IsAlive(host, vmId))
            return new VmInspection(VmPresences.Absent, $"no QEMU process for VM '{vmId}' on {host}");
        var state = await hosts.RunStateAsync(host, vmId, cancellationToken);
        if (state is null)
            return new VmInspection(VmPresences.Unknown, $"the QEMU of VM '{vmId}' on {host} runs but does not answer query-status");
        var qmp = await hosts.ConnectAsync(host, vmId, cancellationToken);
        var migration = (await QueryMigrate(qmp, cancellationToken)).Status ?? "none";
        var words = $"QEMU on {host}: query-status {state}, query-migrate {migration}";
        return state switch
        {
            "running" when migration is "postcopy-paused" or "postcopy-recover" => new VmInspection(VmPresences.Paused, words),
            "running" => new VmInspection(VmPresences.Running, words),
            "inmigrate" => new VmInspection(VmPresences.Incoming, words),
            "postmigrate" or "shutdown" => new VmInspection(VmPresences.Stopped, words),
            _ => new VmInspection(VmPresences.Paused, words),   // paused, finish-migrate, restore-vm, suspended, …
        };
    }

    string IncomingFile(string host, string vmId) => Path.Combine(hosts.VmDirectory(host, vmId), "incoming.json");

    async Task SetCapabilities(QmpClient qmp, CancellationToken cancellationToken, params (string Name, bool State)[] capabilities)
    {
        var list = new JsonArray();
        foreach (var (name, state) in capabilities)
            list.Add(new JsonObject { ["capability"] = name, ["state"] = state });
        await qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject { ["capabilities"] = list }, CommandTimeout, cancellationToken);
    }

    /// <summary>
    /// The VM to start the destination with: as the source's worker described it (it may run on another machine), else
    /// from the source's folder when this worker holds that host too (a command from before definitions travelled).
    /// </summary>
    QemuVmDefinition DefinitionFor(PrepareTarget command)
    {
        if (string.IsNullOrWhiteSpace(command.VmDefinition))
            return hosts.HoldsHost(command.SourceHost) && hosts.Definition(command.SourceHost, command.VmId) is { } local
                ? local
                : throw new HypervisorStepException($"PrepareTarget of VM '{command.VmId}' carries no VM definition, and this worker sees none "
                    + $"on the source '{command.SourceHost}' to copy: nothing to start the destination with.", null);
        try
        {
            return QemuVmDefinition.FromJson(command.VmDefinition);
        }
        catch (System.Text.Json.JsonException exception)
        {
            throw new HypervisorStepException($"PrepareTarget of VM '{command.VmId}' carries a VM definition QEMU's driver cannot read: {exception.Message}", null);
        }
    }

    /// <summary>A fresh <c>tcp:</c> URI on <see cref="QemuOptions.ListenAddress"/>: where a destination listens, and what the source is told.</summary>
    string ListenUri()
    {
        var address = IPAddress.Parse(options.Value.ListenAddress);
        using var listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"tcp:[{address}]:{port}" : $"tcp:{address}:{port}";
    }
}
