using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// Local disks move with the VM, the way libvirt's non-shared-storage migration does it: the destination exports its
/// empty images over NBD (<c>nbd-server-start</c> + <c>block-export-add</c>, writable, TLS when the policy requires it);
/// the source mirrors each disk into its export (<c>blockdev-add</c> of an NBD node, <c>blockdev-mirror</c> in
/// <c>write-blocking</c> mode, so every guest write reaches both sides once the copy is done) and starts the memory
/// transfer only when every mirror is ready. <c>pause-before-switchover</c> holds the switchover until the mirrors are
/// completed without a pivot (<c>block-job-cancel</c> on a ready job): the source disk stays the only truth until the VM
/// stops there. A rollback cancels the mirrors; the target's image goes with its folder.
/// </summary>
public sealed partial class QemuDriver
{
    static string MirrorNode(QemuDisk disk) => $"mirror-{disk.Id}";

    /// <summary>On the prepared destination: exports its (empty) disks over NBD and says where (<c>nbd://ADDRESS:PORT</c>).</summary>
    async Task<string?> ExportDisks(QmpClient qmp, QemuVmDefinition definition, bool encrypted, CancellationToken cancellationToken)
    {
        if (definition.LocalDisks.Count == 0)
            return null;
        var (address, port) = FreeEndpoint();
        var start = new JsonObject
        {
            ["addr"] = new JsonObject { ["type"] = "inet", ["data"] = new JsonObject { ["host"] = address.ToString(), ["port"] = port.ToString() } },
        };
        // The same server credentials as the memory stream: only a source whose client certificate the CA signed can write.
        if (encrypted)
            start["tls-creds"] = QemuTls.ObjectId;
        await qmp.ExecuteAsync("nbd-server-start", start, CommandTimeout, cancellationToken);
        foreach (var disk in definition.LocalDisks)
            await qmp.ExecuteAsync("block-export-add", new JsonObject
            {
                ["type"] = "nbd",
                ["id"] = $"export-{disk.Id}",
                ["node-name"] = disk.Id,
                ["name"] = disk.Id,
                ["writable"] = true,
            }, CommandTimeout, cancellationToken);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"nbd://[{address}]:{port}" : $"nbd://{address}:{port}";
    }

    /// <summary>
    /// On the destination, in the background: once the VM runs there (the migration completed) its NBD server stops, so
    /// the disks are no longer writable from outside; also ends when the destination goes away.
    /// </summary>
    async Task StopExportWhenMigrated(string host, string vmId)
    {
        try
        {
            while (hosts.IsAlive(host, vmId))
            {
                if (await hosts.RunStateAsync(host, vmId, CancellationToken.None) is "running" or "paused")
                {
                    var qmp = await hosts.ConnectAsync(host, vmId, CancellationToken.None);
                    var incoming = await QueryMigrate(qmp, CancellationToken.None);
                    if (!incoming.IsActive && !incoming.IsPostCopy)
                    {
                        await qmp.ExecuteAsync("nbd-server-stop", null, CommandTimeout, CancellationToken.None);
                        logger.LogInformation("Stopped the disk export of {VmId} on {Host}: the VM runs there", vmId, host);
                        return;
                    }
                }
                await Task.Delay(options.Value.PollInterval);
            }
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not stop the disk export of {VmId} on {Host}", vmId, host);
        }
    }

    /// <summary>
    /// On the source, before the memory moves: mirrors every disk into the target's export until all are ready, reporting
    /// the start, the progress (at most once a second) and the moment they are ready. Past the policy's deadline, on an
    /// error of a mirror or on an abort, it throws: the transfer then removes the mirrors, and the VM keeps running on the
    /// source with its disks.
    /// </summary>
    async Task MirrorDisks(BeginTransfer command, QemuTransfer transfer, QmpClient qmp, IReadOnlyList<QemuDisk> disks,
        ChannelReader<QmpEvent> events, ITransferObserver observer, CancellationToken cancellationToken)
    {
        var (vm, source, target) = (command.VmId, command.SourceHost, command.TargetHost);
        if (string.IsNullOrWhiteSpace(command.DiskExportUri) || !Uri.TryCreate(command.DiskExportUri, UriKind.Absolute, out var export)
            || export.Scheme != "nbd")
            throw new HypervisorStepException($"VM '{vm}' has {disks.Count} local disk(s), and the worker of '{target}' exported none to mirror "
                + $"them into (TargetPrepared.DiskExportUri: '{command.DiskExportUri}'). Nothing was moved; it runs on '{source}'.", source);

        transfer.MirrorNodes = [.. disks.Select(MirrorNode)];
        var total = disks.Sum(d => d.SizeBytes);
        // However it ends before the switchover (an error, the deadline, an abort), the transfer's finally removes the
        // mirrors and their NBD nodes: the source's disks stay the truth.
        var started = Stopwatch.StartNew();
        foreach (var disk in disks)
        {
            await RemoveMirror(qmp, MirrorNode(disk));
            var node = new JsonObject
            {
                ["driver"] = "nbd",
                ["node-name"] = MirrorNode(disk),
                ["server"] = new JsonObject { ["type"] = "inet", ["host"] = export.Host.Trim('[', ']'), ["port"] = export.Port.ToString() },
                ["export"] = disk.Id,
            };
            if (command.RequireEncryption)
            {
                node["tls-creds"] = QemuTls.ObjectId;
                node["tls-hostname"] = target;
            }
            await qmp.ExecuteAsync("blockdev-add", node, CommandTimeout, cancellationToken);
            await qmp.ExecuteAsync("blockdev-mirror", new JsonObject
            {
                ["job-id"] = MirrorNode(disk),
                ["device"] = disk.Id,
                ["target"] = MirrorNode(disk),
                ["sync"] = "full",
                // Once the copy is done every guest write reaches both images before it completes: ready stays ready.
                ["copy-mode"] = "write-blocking",
                ["speed"] = Math.Max(1, command.MaxBandwidthMiBps) * MiB,
            }, CommandTimeout, cancellationToken);
        }
        await observer.DiskMirrorStarted(disks.Count, total);
        logger.LogInformation("Mirroring {Disks} disk(s) of {VmId} ({Bytes} bytes) to {Export}", disks.Count, vm, total, command.DiskExportUri);

        var deadline = command.DiskMirrorDeadlineSeconds > 0 ? TimeSpan.FromSeconds(command.DiskMirrorDeadlineSeconds) : (TimeSpan?)null;
        var lastReport = TimeSpan.Zero;
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            foreach (var e in await WaitForEvent(qmp, events, cancellationToken))
                if (e.Name is "BLOCK_JOB_COMPLETED" or "BLOCK_JOB_ERROR" && e.Data.TryGetProperty("device", out var device)
                    && e.Data.TryGetProperty("error", out var error))
                    errors[device.GetString() ?? "?"] = error.GetString() ?? "unknown error";
            var jobs = await MirrorJobs(qmp, transfer.MirrorNodes, cancellationToken);
            if (transfer.AbortRequested)
                throw new OperationCanceledException($"The migration of VM '{vm}' was cancelled on request while its disks were mirrored.");
            if (jobs.Count < disks.Count || errors.Count > 0)
            {
                var why = errors.Count > 0
                    ? string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"))
                    : $"the mirror job of {string.Join(", ", transfer.MirrorNodes.Except(jobs.Select(j => j.Id)))} ended before it was ready";
                throw new HypervisorStepException($"The mirror of VM '{vm}''s disks to '{target}' failed ({why}). The mirrors were cancelled; "
                    + $"the VM runs on '{source}' with its disks there, the only copy that counts.", source);
            }
            var done = jobs.Sum(j => j.Offset);
            var length = jobs.Sum(j => j.Length);
            if (jobs.All(j => j.Ready))
            {
                await observer.DiskMirrorReady(total, Math.Round(started.Elapsed.TotalMilliseconds, 1));
                logger.LogInformation("The disks of {VmId} are mirrored on {TargetHost} after {ElapsedMs} ms", vm, target, started.ElapsedMilliseconds);
                return;
            }
            if (deadline is { } limit && started.Elapsed > limit)
                throw new HypervisorStepException($"The mirror of VM '{vm}''s disks to '{target}' was not ready within {limit.TotalSeconds:0} s "
                    + $"(the policy's disk mirror deadline): {done} of {length} bytes copied. The mirrors were cancelled; the VM runs on "
                    + $"'{source}' with its disks there, the only copy that counts.", source);
            if (started.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
            {
                lastReport = started.Elapsed;
                await observer.DiskMirrorProgress(done, Math.Max(0, length - done));
            }
        }
    }

    /// <summary>
    /// At <c>pre-switchover</c> (both sides stopped): completes every mirror without a pivot, so the target's images hold
    /// exactly what the source's do, drops the NBD connections, then lets the switchover go on.
    /// </summary>
    async Task CompleteMirrors(QemuTransfer transfer, QmpClient qmp, CancellationToken cancellationToken)
    {
        foreach (var node in transfer.MirrorNodes)
        {
            try
            {
                await qmp.ExecuteAsync("block-job-cancel", new JsonObject { ["device"] = node }, CommandTimeout, cancellationToken);
            }
            catch (QmpException exception)
            {
                throw new HypervisorStepException($"The disk mirror {node} of VM '{transfer.VmId}' was gone at the switchover ({exception.Description}): "
                    + "the target's disk may miss writes, so the migration is cancelled and the VM stays on the source.", transfer.SourceHost);
            }
        }
        var completing = Stopwatch.StartNew();
        if (!await JobsEnded(qmp, transfer.MirrorNodes, cancellationToken))
            throw new HypervisorStepException($"The disk mirrors of VM '{transfer.VmId}' did not complete within {CommandTimeout.TotalSeconds:0} s "
                + "at the switchover; the migration is cancelled and the VM stays on the source.", transfer.SourceHost);
        // The jobs are over (this is within the downtime): only their NBD nodes are left to remove.
        foreach (var node in transfer.MirrorNodes)
            await DeleteMirrorNode(qmp, node);
        transfer.MirrorNodes = [];
        logger.LogInformation("Completed the disk mirrors of {VmId} at the switchover ({Ms} ms)", transfer.VmId, completing.ElapsedMilliseconds);
    }

    /// <summary>Cancels the transfer's mirrors and removes their NBD nodes. Best effort.</summary>
    async Task RemoveMirrors(QmpClient qmp, QemuTransfer transfer)
    {
        foreach (var node in transfer.MirrorNodes)
            await RemoveMirror(qmp, node);
        transfer.MirrorNodes = [];
    }

    /// <summary>Cancels one mirror (forced: a ready job would otherwise complete), waits for it to end, removes its NBD node. Best effort.</summary>
    async Task RemoveMirror(QmpClient qmp, string node)
    {
        try
        {
            await qmp.ExecuteAsync("block-job-cancel", new JsonObject { ["device"] = node, ["force"] = true }, CommandTimeout, CancellationToken.None);
            await JobsEnded(qmp, [node], CancellationToken.None);
        }
        catch (QmpException)
        {
            // No such job.
        }
        await DeleteMirrorNode(qmp, node);
    }

    /// <summary>Waits until none of the jobs <paramref name="ids"/> is listed any more; false when they still are after the command timeout.</summary>
    async Task<bool> JobsEnded(QmpClient qmp, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while ((await MirrorJobs(qmp, ids, cancellationToken)).Count > 0)
        {
            if (waited.Elapsed > CommandTimeout)
                return false;
            await Task.Delay(5, cancellationToken);
        }
        return true;
    }

    async Task DeleteMirrorNode(QmpClient qmp, string node)
    {
        try
        {
            await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = node }, CommandTimeout, CancellationToken.None);
        }
        catch (QmpException)
        {
            // No such node.
        }
    }

    sealed record MirrorJob(string Id, long Offset, long Length, bool Ready);

    async Task<List<MirrorJob>> MirrorJobs(QmpClient qmp, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var jobs = await qmp.ExecuteAsync("query-block-jobs", null, CommandTimeout, cancellationToken);
        return [.. jobs.EnumerateArray()
            .Select(j => new MirrorJob(j.GetProperty("device").GetString() ?? "", j.GetProperty("offset").GetInt64(), j.GetProperty("len").GetInt64(),
                j.TryGetProperty("ready", out var ready) && ready.ValueKind == JsonValueKind.True))
            .Where(j => ids.Contains(j.Id))];
    }
}
