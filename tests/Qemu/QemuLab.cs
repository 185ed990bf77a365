using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.TestSupport.Qemu;

/// <summary>
/// Real QEMU for a test: a runtime root of its own (one folder per host), the project's test guest (built by
/// infra/qemu.sh), VMs started on a host, the guest's status block read over the observers' QMP monitor. Disposing it
/// kills every QEMU it (or a driver on the same root) started, even when the test failed.
/// </summary>
public sealed class QemuLab : IAsyncDisposable
{
    /// <summary>64 MiB − 8 KiB: QEMU 7.2 with TCG loses dirty pages when the RAM block is a multiple of 256 KiB.</summary>
    public const long MemoryKiB = 65528;

    public QemuLab()
    {
        Root = Path.Combine("/tmp", $"oq-{Guid.NewGuid():N}"[..11]);
        Options = new QemuOptions { RuntimeRoot = Root, PollInterval = TimeSpan.FromMilliseconds(100) };
        Hosts = new QemuHosts(Microsoft.Extensions.Options.Options.Create(Options), NullLogger<QemuHosts>.Instance);
        Guest = FindOrBuildGuest();
    }

    public string Root { get; }

    public QemuOptions Options { get; }

    public QemuHosts Hosts { get; }

    /// <summary>The test guest's ELF.</summary>
    public string Guest { get; }

    /// <summary>Where <see cref="MakeTls"/> puts each host's credentials (<c>Qemu:TlsDirectory</c>), one sub-directory per host.</summary>
    public string TlsDirectory => Root + "-tls";

    /// <summary>The development CA of this lab's credentials (another lab may share it).</summary>
    public string CaDirectory => Root + "-ca";

    /// <summary>
    /// Credentials for <paramref name="host"/> made by infra/tls.sh, signed by the CA in <paramref name="caDirectory"/>
    /// (default: the lab's own) and naming <paramref name="names"/> (default: the host itself); the lab's
    /// <see cref="QemuOptions.TlsDirectory"/> points at them from now on. Returns the host's directory.
    /// </summary>
    public string MakeTls(string host, string? caDirectory = null, params string[] names)
    {
        var directory = Path.Combine(TlsDirectory, host);
        string[] arguments = ["host", caDirectory ?? CaDirectory, directory, .. names.Length > 0 ? names : [host]];
        using var script = Process.Start(new ProcessStartInfo(Path.Combine(RepoRoot(), "infra", "tls.sh"), arguments) { RedirectStandardError = true })!;
        var errors = script.StandardError.ReadToEnd();
        if (!script.WaitForExit(TimeSpan.FromMinutes(2)) || script.ExitCode != 0)
            throw new InvalidOperationException($"infra/tls.sh failed for {host}: {errors}");
        Options.TlsDirectory = TlsDirectory;
        return directory;
    }

    /// <summary>The size of the local disk a guest started with <c>diskKiB</c> gets (<see cref="DiskId"/>).</summary>
    public const long DiskBytes = 64L << 20;

    public const string DiskId = "disk0";

    /// <summary>
    /// The test guest rewriting <paramref name="mib"/> MiB at <paramref name="rate"/> MiB/s; with <paramref name="diskKiB"/>,
    /// a local disk of <see cref="DiskBytes"/> whose first <paramref name="diskKiB"/> KiB it rewrites too (8 sectors after each 64 KiB of memory).
    /// </summary>
    public QemuVmDefinition Definition(int mib, int rate, int diskKiB = 0) => diskKiB == 0
        ? new(MemoryKiB, Guest, $"mib={mib} rate={rate}")
        : new(MemoryKiB, Guest, $"mib={mib} rate={rate} disk={diskKiB} dsec=8", Disks: [new QemuDisk(DiskId, DiskBytes)]);

    /// <summary>Starts the guest on <paramref name="host"/> and waits until it has written its working set (and its disk region) once.</summary>
    public async Task StartVm(string host, string vmId, int mib = 8, int rate = 64, int diskKiB = 0)
    {
        await Hosts.StartAsync(host, vmId, Definition(mib, rate, diskKiB), incoming: false, CancellationToken.None);
        var status = await Eventually.Get(() => Status(host, vmId), s => s is { IsRunning: true, Pass: >= 2 } && (diskKiB == 0 || s.DiskPass >= 2),
            $"the guest {vmId} to run on {host}");
        if (status!.DiskSectors != (uint)diskKiB * 2)
            throw new InvalidOperationException($"The guest {vmId} on {host} rewrites {status.DiskSectors} disk sectors, not the {diskKiB * 2} it was started with.");
        // A guest that did not read its command line runs its defaults (8 MiB at 64 MiB/s): every test would still
        // pass, on another workload than the one it names.
        if (status!.WorkingSetMiB != mib || status.RateMiBps != rate)
            throw new InvalidOperationException($"The guest {vmId} on {host} runs {status.WorkingSetMiB} MiB at {status.RateMiBps} MiB/s, "
                + $"not the {mib} MiB at {rate} MiB/s it was started with.");
    }

    /// <summary>The guest's status block on <paramref name="host"/>, read over a QMP connection of the test's own.</summary>
    public async Task<GuestStatus?> Status(string host, string vmId)
    {
        if (!Hosts.IsAlive(host, vmId))
            return null;
        await using var qmp = await QmpClient.ConnectAsync(Hosts.MonitorSocket(host, vmId), TimeSpan.FromSeconds(10));
        return await GuestStatus.ReadAsync(qmp);
    }

    /// <summary>The QEMU run state on <paramref name="host"/> over the observers' monitor (null: no QEMU).</summary>
    public async Task<string?> RunState(string host, string vmId)
    {
        if (!Hosts.IsAlive(host, vmId))
            return null;
        await using var qmp = await QmpClient.ConnectAsync(Hosts.MonitorSocket(host, vmId), TimeSpan.FromSeconds(10));
        return (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString();
    }

    /// <summary>Waits until the guest on <paramref name="host"/> has run <paramref name="passes"/> more passes; returns its status.</summary>
    public async Task<GuestStatus> RunsOn(string host, string vmId, uint passes = 2)
    {
        var before = await Status(host, vmId) ?? throw new InvalidOperationException($"{host} runs no QEMU for {vmId}.");
        return (await Eventually.Get(() => Status(host, vmId), s => s is not null && s.Pass >= before.Pass + passes,
            $"the guest {vmId} to keep running on {host}"))!;
    }

    /// <summary>SIGKILL the VM's QEMU on <paramref name="host"/>, as a crash would.</summary>
    public void Kill(string host, string vmId)
    {
        if (Hosts.Pid(host, vmId) is not { } pid)
            return;
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Gone already (a test's cleanup after the test killed it): a failure in the cleanup must not hide the test's own.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Hosts.KillAllAsync();
        await Hosts.DisposeAsync();
        // The lab's credentials and CAs, and any other a test made beside them (a rogue CA: CaDirectory + "-other").
        foreach (var directory in Directory.GetDirectories(Path.GetDirectoryName(Root)!, Path.GetFileName(Root) + "-*"))
            Directory.Delete(directory, recursive: true);
    }

    static string RepoRoot()
    {
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "infra", "qemu.sh")))
            repo = repo.Parent;
        return repo?.FullName ?? throw new InvalidOperationException("The repository (infra/) was not found above " + AppContext.BaseDirectory);
    }

    static string FindOrBuildGuest()
    {
        if (Environment.GetEnvironmentVariable("ORCHESTRATOR_QEMU_GUEST") is { Length: > 0 } configured && File.Exists(configured))
            return configured;
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "infra", "qemu.sh")))
            repo = repo.Parent;
        if (repo is null)
            throw new InvalidOperationException("The test guest is not built and infra/qemu.sh was not found: set ORCHESTRATOR_QEMU_GUEST.");
        var guest = Path.Combine(repo.FullName, ".data", "qemu", "guest.elf");
        if (!File.Exists(guest))
        {
            using var build = Process.Start(new ProcessStartInfo(Path.Combine(repo.FullName, "infra", "qemu.sh"), "setup") { RedirectStandardOutput = true })!;
            build.WaitForExit();
            if (build.ExitCode != 0 || !File.Exists(guest))
                throw new InvalidOperationException($"infra/qemu.sh setup failed (exit {build.ExitCode}): QEMU and the test guest are needed.");
        }
        return guest;
    }
}
