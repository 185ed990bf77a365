using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Workers.Drivers;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// The QEMU processes of the hosts this worker serves. A host is a folder under <see cref="QemuOptions.RuntimeRoot"/>;
/// a VM is a QEMU process whose files live in <c>&lt;root&gt;/&lt;host&gt;/&lt;vmId&gt;/</c>: <c>vm.json</c> (its
/// definition), its disk images (<c>&lt;disk&gt;.raw</c>), <c>qmp.sock</c> (the driver's QMP connection, one per QEMU, kept open), <c>monitor.sock</c> (a second
/// QMP monitor for observers: tests, operators), <c>qemu.pid</c> and <c>serial.log</c>. QEMU runs daemonized, so VMs
/// outlive a worker that stops or dies; a restarted worker finds them again by their folders.
/// </summary>
public sealed partial class QemuHosts(IOptions<QemuOptions> options, ILogger<QemuHosts> logger) : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, QmpClient> _connections = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _connecting = new(1, 1);

    QemuOptions Options => options.Value;

    public string VmDirectory(string host, string vmId) => Path.Combine(Options.RuntimeRoot, CheckName(host, "host"), CheckName(vmId, "VM id"));

    public string QmpSocket(string host, string vmId) => Path.Combine(VmDirectory(host, vmId), "qmp.sock");

    /// <summary>The observers' QMP socket (a second monitor), so reading a VM never takes the driver's connection.</summary>
    public string MonitorSocket(string host, string vmId) => Path.Combine(VmDirectory(host, vmId), "monitor.sock");

    public string SerialLog(string host, string vmId) => Path.Combine(VmDirectory(host, vmId), "serial.log");

    /// <summary>The VM's definition as stored on <paramref name="host"/>, or null when the host has no such VM.</summary>
    public QemuVmDefinition? Definition(string host, string vmId)
    {
        var file = Path.Combine(VmDirectory(host, vmId), "vm.json");
        return File.Exists(file) ? QemuVmDefinition.FromJson(File.ReadAllText(file)) : null;
    }

    /// <summary>The hosts (folders) that hold a QEMU process for <paramref name="vmId"/>, alive or not.</summary>
    public IReadOnlyList<string> HostsWith(string vmId)
    {
        CheckName(vmId, "VM id");
        return Directory.Exists(Options.RuntimeRoot)
            ? [.. Directory.EnumerateDirectories(Options.RuntimeRoot).Where(d => Directory.Exists(Path.Combine(d, vmId))).Select(Path.GetFileName).OfType<string>().Order()]
            : [];
    }

    /// <summary>True when this worker's runtime root holds <paramref name="host"/>: the host's QEMUs are within its reach.</summary>
    public bool HoldsHost(string host) => Directory.Exists(Path.Combine(Options.RuntimeRoot, CheckName(host, "host")));

    /// <summary>The VMs (folders) on <paramref name="host"/>, whatever their QEMU does, if it lives at all.</summary>
    public IReadOnlyList<string> VmsOn(string host)
    {
        var directory = Path.Combine(Options.RuntimeRoot, CheckName(host, "host"));
        return Directory.Exists(directory)
            ? [.. Directory.EnumerateDirectories(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
            : [];
    }

    /// <summary>
    /// Starts QEMU for <paramref name="vmId"/> on <paramref name="host"/>: running, or, with <paramref name="incoming"/>,
    /// waiting for a migration (<c>-incoming defer</c>). Returns once its QMP sockets accept connections.
    /// </summary>
    public async Task StartAsync(string host, string vmId, QemuVmDefinition definition, bool incoming, CancellationToken cancellationToken)
    {
        var directory = VmDirectory(host, vmId);
        if (IsAlive(host, vmId))
            throw new HypervisorStepException($"Host '{host}' already runs a QEMU for VM '{vmId}'.", null);
        if (definition.Problem() is { } problem)
            throw new HypervisorStepException($"VM '{vmId}' cannot start on '{host}': {problem}", null);
        if (QmpSocket(host, vmId).Length > 107)
            throw new ArgumentException($"The QEMU runtime folder '{directory}' is too deep for a unix socket path; configure a shorter Qemu:RuntimeRoot.");
        await DropConnectionAsync(host, vmId);
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "vm.json"), definition.ToJson(), cancellationToken);
        // Each disk starts as a sparse image of its size: empty on a new VM, and what a migration's mirror fills on a target.
        foreach (var disk in definition.LocalDisks)
        {
            await using var image = new FileStream(disk.ImagePath(directory), FileMode.CreateNew, FileAccess.Write);
            image.SetLength(disk.SizeBytes);
        }

        var start = new ProcessStartInfo(Options.Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in Arguments(host, vmId, definition, incoming))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Options.Binary}.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        // With -daemonize the first process exits once the VM is set up: 0 means the daemon runs.
        if (process.ExitCode != 0)
            throw new HypervisorStepException($"QEMU for VM '{vmId}' did not start on '{host}' (exit {process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}", null);
        logger.LogInformation("Started QEMU for {VmId} on {Host} (pid {Pid}, incoming {Incoming})", vmId, host, Pid(host, vmId), incoming);
    }

    IEnumerable<string> Arguments(string host, string vmId, QemuVmDefinition definition, bool incoming)
    {
        var directory = VmDirectory(host, vmId);
        string[] own =
        [
            "-name", $"{vmId},process=qemu-{host}-{vmId}",
            .. definition.DeviceArguments(directory),
            "-serial", $"file:{SerialLog(host, vmId)}",
            "-qmp", $"unix:{QmpSocket(host, vmId)},server=on,wait=off",
            "-chardev", $"socket,id=observer,path={MonitorSocket(host, vmId)},server=on,wait=off",
            "-mon", "chardev=observer,mode=control",
            "-daemonize", "-pidfile", Path.Combine(directory, "qemu.pid"),
        ];
        return incoming ? [.. own, "-incoming", "defer"] : own;
    }

    /// <summary>The process id of the VM's QEMU on <paramref name="host"/>, or null when there is none.</summary>
    public int? Pid(string host, string vmId)
    {
        var file = Path.Combine(VmDirectory(host, vmId), "qemu.pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True while the QEMU process of this VM on this host exists (and is not a zombie).</summary>
    public bool IsAlive(string host, string vmId)
    {
        if (Pid(host, vmId) is not { } pid)
            return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            if (state is 'Z' or 'X')
                return false;
            // The pid could have been reused: it must still be this VM's QEMU.
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(QmpSocket(host, vmId), StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The driver's QMP connection to this VM's QEMU: opened once, kept open (events only reach open connections).</summary>
    public async Task<QmpClient> ConnectAsync(string host, string vmId, CancellationToken cancellationToken)
    {
        var socket = QmpSocket(host, vmId);
        if (_connections.TryGetValue(socket, out var open) && open.IsConnected)
            return open;
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connections.TryGetValue(socket, out open) && open.IsConnected)
                return open;
            if (open is not null)
                await open.DisposeAsync();
            if (!IsAlive(host, vmId))
                throw new HypervisorStepException($"Host '{host}' runs no QEMU for VM '{vmId}'.", null);
            var client = await QmpClient.ConnectAsync(socket, Options.CommandTimeout, cancellationToken);
            _connections[socket] = client;
            return client;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>The VM's run state (<c>running</c>, <c>inmigrate</c>, <c>postmigrate</c>, <c>paused</c>…), or null when no QEMU answers.</summary>
    public async Task<string?> RunStateAsync(string host, string vmId, CancellationToken cancellationToken)
    {
        if (!IsAlive(host, vmId))
            return null;
        try
        {
            var qmp = await ConnectAsync(host, vmId, cancellationToken);
            var status = await qmp.ExecuteAsync("query-status", null, Options.CommandTimeout, cancellationToken);
            return status.GetProperty("status").GetString();
        }
        catch (Exception exception) when (exception is IOException or TimeoutException or HypervisorStepException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>Ends the VM's QEMU with SIGKILL and removes its folder. Idempotent.</summary>
    public async Task KillAsync(string host, string vmId)
    {
        await DropConnectionAsync(host, vmId);
        if (IsAlive(host, vmId) && Pid(host, vmId) is { } pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                // Gone already.
            }
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (IsAlive(host, vmId) && DateTime.UtcNow < deadline)
                await Task.Delay(10);
            logger.LogInformation("Killed QEMU for {VmId} on {Host}", vmId, host);
        }
        RemoveFolder(host, vmId);
    }

    /// <summary>Asks QEMU to quit (SIGKILL after <paramref name="grace"/>), then removes the VM's folder. Idempotent.</summary>
    public async Task QuitAsync(string host, string vmId, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (IsAlive(host, vmId))
        {
            try
            {
                var qmp = await ConnectAsync(host, vmId, cancellationToken);
                await qmp.ExecuteAsync("quit", null, Options.CommandTimeout, cancellationToken);
            }
            catch (Exception exception) when (exception is IOException or TimeoutException or QmpException or HypervisorStepException)
            {
                // Killed below if it is still there.
            }
            var deadline = DateTime.UtcNow + grace;
            while (IsAlive(host, vmId) && DateTime.UtcNow < deadline)
                await Task.Delay(10, cancellationToken);
        }
        await KillAsync(host, vmId);
    }

    void RemoveFolder(string host, string vmId)
    {
        var directory = VmDirectory(host, vmId);
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException exception)
        {
            logger.LogWarning(exception, "Could not remove {Folder}", directory);
        }
    }

    async Task DropConnectionAsync(string host, string vmId)
    {
        if (_connections.TryRemove(QmpSocket(host, vmId), out var client))
            await client.DisposeAsync();
    }

    /// <summary>Kills every QEMU under the runtime root and removes the root (tests and demos clean up with it).</summary>
    public async Task KillAllAsync()
    {
        if (!Directory.Exists(Options.RuntimeRoot))
            return;
        foreach (var hostDirectory in Directory.EnumerateDirectories(Options.RuntimeRoot))
            foreach (var vmDirectory in Directory.EnumerateDirectories(hostDirectory))
                await KillAsync(Path.GetFileName(hostDirectory), Path.GetFileName(vmDirectory));
        Directory.Delete(Options.RuntimeRoot, recursive: true);
    }

    /// <summary>Closes the QMP connections; the VMs keep running.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _connections.Values)
            await client.DisposeAsync();
        _connections.Clear();
        _connecting.Dispose();
    }

    static string CheckName(string name, string what) =>
        SafeName().IsMatch(name) ? name : throw new ArgumentException($"Invalid {what} '{name}': use letters, digits, '.', '-' and '_' (at most 64).");

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SafeName();
}
