using Orchestrator.Contracts;
using Orchestrator.TestSupport.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// Production's layout of qemu workers: one <c>orchestrator worker --driver qemu</c> process per hypervisor host, each
/// with a runtime root (<c>--qemu-root</c>) and an epoch folder of its own, so neither can see the other's QEMUs or
/// files; they meet only through RabbitMQ and the orchestrator of <see cref="QemuOrchestrator"/>. The target's worker
/// listens on 127.0.0.2 (<c>Qemu:ListenAddress</c>) and offers 2 GiB (<c>Qemu:HostMemoryMiB</c>); the source's reads
/// /proc/meminfo.
/// </summary>
public sealed class QemuWorkersApart(QemuOrchestrator orchestrator) : IAsyncLifetime
{
    public const string Source = "qemu-x";
    public const string Target = "qemu-y";
    public const string TargetListenAddress = "127.0.0.2";
    public const long TargetMemoryMiB = 2048;
    readonly string _epochs = Path.Combine(Path.GetTempPath(), $"oq-epochs-{Guid.NewGuid():N}"[..20]);
    OrchestratorProcess? _sourceWorker;
    OrchestratorProcess? _targetWorker;

    public QemuLab SourceLab { get; } = new();

    public QemuLab TargetLab { get; } = new();

    public OrchestratorProcess SourceWorker => _sourceWorker ?? throw new InvalidOperationException("Not started.");

    public OrchestratorProcess TargetWorker => _targetWorker ?? throw new InvalidOperationException("Not started.");

    /// <summary>What both workers wrote, for a failing test's message.</summary>
    public string Output => $"--- worker of {Source}:\n{_sourceWorker?.Output}\n--- worker of {Target}:\n{_targetWorker?.Output}";

    public async ValueTask InitializeAsync()
    {
        // One CA signed both hosts' credentials; each worker sees only its own host's (Qemu:TlsDirectory).
        SourceLab.MakeTls(Source);
        TargetLab.MakeTls(Target, caDirectory: SourceLab.CaDirectory);
        _sourceWorker = Start(Source, SourceLab, new Dictionary<string, string>());
        _targetWorker = Start(Target, TargetLab, new Dictionary<string, string>
        {
            ["Qemu__ListenAddress"] = TargetListenAddress,
            ["Qemu__HostMemoryMiB"] = TargetMemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await using var client = await PlainAmqpClient.ConnectAsync(orchestrator.Settings.RabbitMq);
        foreach (var host in new[] { Source, Target })
            await Eventually.Get(() => client.QueueExists(QueueNames.Worker(HypervisorKinds.Qemu, host)), up => up,
                $"the worker of {host} to start\n{Output}", TimeSpan.FromSeconds(60));
    }

    OrchestratorProcess Start(string host, QemuLab lab, Dictionary<string, string> settings)
    {
        settings["ConnectionStrings__Postgres"] = orchestrator.Settings.Postgres;
        settings["ConnectionStrings__RabbitMq"] = orchestrator.Settings.RabbitMq;
        settings["Worker__HeartbeatInterval"] = "00:00:01";
        settings["Worker__StateDirectory"] = Path.Combine(_epochs, host);
        settings["Qemu__PollInterval"] = "00:00:00.100";
        settings["Qemu__TlsDirectory"] = lab.TlsDirectory;
        return OrchestratorProcess.Start(settings, "worker", "--driver", "qemu", "--host", host, "--qemu-root", lab.Root);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _sourceWorker?.Dispose();
            _targetWorker?.Dispose();
        }
        finally
        {
            await SourceLab.DisposeAsync();
            await TargetLab.DisposeAsync();
            if (Directory.Exists(_epochs))
                Directory.Delete(_epochs, recursive: true);
        }
    }
}
