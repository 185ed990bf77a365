using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
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
/// This file holds the preflight, the destination's preparation and what every part shares; the transfer, post-copy
/// recovery, teardown, locating a VM and describing a host live in partials of their own (QemuDriver.*.cs).
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
        // An encrypted stream needs the source's client credentials (this worker's) and the target's server credentials,
        // checked here when this worker holds the target too, else by the target's worker when it prepares.
        if (command.RequireEncryption && (QemuTls.Problem(options.Value, command.SourceHost, QemuTls.Endpoint.Client)
                ?? (hosts.HoldsHost(command.TargetHost) ? QemuTls.Problem(options.Value, command.TargetHost, QemuTls.Endpoint.Server) : null)) is { } tls)
            return new(tls, memory, null);

        if (definition.Problem() is { } invalid)
            return new($"VM '{command.VmId}' cannot move: {invalid}", memory, null);
        if (definition.DiskBytes > 0 && hosts.HoldsHost(command.TargetHost) && FreeDiskSpace() is { } room && definition.DiskBytes > room)
            return new($"Target '{command.TargetHost}' has {room / (double)MiB:0.#} MiB of disk space free; VM '{command.VmId}''s disks need "
                + $"{definition.DiskBytes / (double)MiB:0.#} MiB.", memory, null);

        // Before the first pass only the memory size is known: the downtime if the whole RAM had to move while stopped
        // is an upper bound; QEMU measures the real dirty rate during the transfer and the policy acts on it. Local disks
        // are mirrored while the VM runs and add nothing to the downtime; their size goes to the orchestrator's forecast.
        var bandwidth = Math.Max(1, command.MaxBandwidthMiBps) * (double)MiB;
        // The target's worker starts the destination from this definition: it may not see this host's files.
        return new(null, memory, Math.Round(memory / bandwidth * 1000, 1), definition.ToJson(indented: false), definition.DiskBytes);
    }

    public async Task<TargetPreparation> PrepareTargetAsync(PrepareTarget command, CancellationToken cancellationToken)
    {
        var (vm, target) = (command.VmId, command.TargetHost);
        var incomingFile = IncomingFile(target, vm);
        if (hosts.IsAlive(target, vm))
        {
            if (IncomingMigration.Read(incomingFile) is { } waiting && waiting.MigrationId == command.MigrationId)
                return new(waiting.Uri, waiting.DiskExportUri); // A redelivered PrepareTarget: the destination is already waiting there.
            if (await hosts.RunStateAsync(target, vm, cancellationToken) is "running")
                throw new HypervisorStepException($"VM '{vm}' already runs on '{target}'.", target);
            logger.LogWarning("Replacing a leftover destination of VM {VmId} on {Host}", vm, target);
            await hosts.KillAsync(target, vm);
        }
        var definition = DefinitionFor(command);
        if (definition.Problem() is { } invalid)
            throw new HypervisorStepException($"VM '{vm}' cannot be started on '{target}': {invalid} Nothing was started there; the VM runs on '{command.SourceHost}'.", command.SourceHost);
        if (command.RequireEncryption && QemuTls.Problem(options.Value, target, QemuTls.Endpoint.Server) is { } tls)
            throw new HypervisorStepException($"{tls} Nothing was started there; the VM runs on '{command.SourceHost}'.", command.SourceHost);
        // The target's own worker knows its room: Qemu:HostMemoryMiB minus every live QEMU there, else MemAvailable.
        var free = await FreeMemory(target, cancellationToken);
        if (definition.MemoryBytes > free)
            throw new HypervisorStepException($"Target '{target}' has {free / (double)MiB:0.#} MiB free; VM '{vm}' needs "
                + $"{definition.MemoryBytes / (double)MiB:0.#} MiB. Nothing was started there; the VM runs on '{command.SourceHost}'.", command.SourceHost);

        // Its disks' images are made there, as big as the source's: the file system must hold them.
        if (definition.DiskBytes > 0 && FreeDiskSpace() is { } room && definition.DiskBytes > room)
            throw new HypervisorStepException($"Target '{target}' has {room / (double)MiB:0.#} MiB of disk space free in {options.Value.RuntimeRoot}; "
                + $"VM '{vm}''s disks need {definition.DiskBytes / (double)MiB:0.#} MiB. Nothing was started there; the VM runs on '{command.SourceHost}'.", command.SourceHost);

        await hosts.StartAsync(target, vm, definition, incoming: true, cancellationToken);
        var qmp = await hosts.ConnectAsync(target, vm, cancellationToken);
        // postcopy-ram must be on on both sides before migrate; on the destination alone it changes nothing, so it is
        // always on: the source decides by policy.
        await SetCapabilities(qmp, cancellationToken, ("events", true), ("postcopy-ram", true), ("multifd", command.MultifdChannels > 0));
        // TLS: the destination accepts only a stream from a source whose client certificate its CA signed; set before it listens.
        if (command.RequireEncryption)
        {
            await QemuTls.Install(qmp, options.Value, target, QemuTls.Endpoint.Server, command.SourceHost, cancellationToken);
            await qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["tls-creds"] = QemuTls.ObjectId }, CommandTimeout, cancellationToken);
        }
        // multifd: the destination must expect the source's channels before it listens.
        if (command.MultifdChannels > 0)
            await qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["multifd-channels"] = command.MultifdChannels }, CommandTimeout, cancellationToken);
        var diskExport = await ExportDisks(qmp, definition, command.RequireEncryption, cancellationToken);
        var uri = ListenUri();
        await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri }, CommandTimeout, cancellationToken);
        await File.WriteAllTextAsync(incomingFile, new IncomingMigration(command.MigrationId, uri, diskExport).ToJson(), cancellationToken);
        if (diskExport is not null)
            _ = Task.Run(() => StopExportWhenMigrated(target, vm), CancellationToken.None);
        logger.LogInformation("Destination of {VmId} waits on {Host} at {Uri} (disks: {DiskExport})", vm, target, uri, diskExport ?? "none");
        return new(uri, diskExport);
    }

    async Task<MigrationInfo> QueryMigrate(QmpClient qmp, CancellationToken cancellationToken) =>
        MigrationInfo.Parse(await qmp.ExecuteAsync("query-migrate", null, CommandTimeout, cancellationToken));

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
        var (address, port) = FreeEndpoint();
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"tcp:[{address}]:{port}" : $"tcp:{address}:{port}";
    }

    /// <summary>A port free now on <see cref="QemuOptions.ListenAddress"/>.</summary>
    (IPAddress Address, int Port) FreeEndpoint()
    {
        var address = IPAddress.Parse(options.Value.ListenAddress);
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return (address, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    /// <summary>The bytes free on the file system of <see cref="QemuOptions.RuntimeRoot"/> (its nearest existing folder), or null when unknown.</summary>
    long? FreeDiskSpace()
    {
        try
        {
            var folder = new DirectoryInfo(options.Value.RuntimeRoot);
            while (folder is { Exists: false })
                folder = folder.Parent;
            return folder is null ? null : new DriveInfo(folder.FullName).AvailableFreeSpace;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
