using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>Post-copy recovery after a broken link: the source's loop of attempts and the destination's <c>migrate-recover</c>.</summary>
public sealed partial class QemuDriver
{
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
        // A destination still postcopy-active has not seen the break yet (its end of the socket closes a moment after the
        // source's, later on a loaded host): it is given the attempt's time to see it, not taken at its word at once.
        var incoming = await WaitForStatus(destination, s => s is "postcopy-paused" or "postcopy-recover" or "completed",
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

    /// <summary>Polls <c>query-migrate</c> until <paramref name="done"/> says yes or <paramref name="until"/> passes; returns the last answer.</summary>
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
}
