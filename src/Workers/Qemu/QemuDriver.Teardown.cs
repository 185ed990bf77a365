using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>Ending a migration on either side: cancel on the source, destroy the destination, clean the source up.</summary>
public sealed partial class QemuDriver
{
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
        // Disks being mirrored: the mirrors go (forced, a ready one would complete) with their NBD connections; the
        // source's disks stay the only truth.
        foreach (var disk in hosts.Definition(source, vm)?.LocalDisks ?? [])
            await RemoveMirror(qmp, MirrorNode(disk));

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
}
