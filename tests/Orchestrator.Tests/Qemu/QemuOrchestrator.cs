using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.TestSupport.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// Production's shape with real QEMU: an <c>orchestrator serve</c> host and an <c>orchestrator worker --driver qemu</c>
/// host serving two hosts (runtime folders) on this machine, over the real RabbitMQ and PostgreSQL. Every QEMU the
/// tests or the worker start lives under the lab's root and is killed when the fixture goes, even after a failure.
/// A RabbitMQ virtual host of its own: the other end-to-end fixtures' orchestrators never take its commands.
/// </summary>
public sealed class QemuOrchestrator : IAsyncLifetime
{
    public const string Source = "qemu-a";
    public const string Target = "qemu-b";

    /// <summary>A host whose TLS credentials another CA signed: an encrypted migration to it is refused.</summary>
    public const string Rogue = "qemu-rogue";

    /// <summary>A host with no TLS credentials of its own (nothing in Qemu:TlsDirectory for it).</summary>
    public const string Bare = "qemu-bare";
    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("qemu");
    IHost _serve = null!;
    IHost _worker = null!;

    public QemuLab Lab { get; } = new();

    public OrchestratorSettings Settings { get; private set; } = null!;

    public IDocumentStore Store => _serve.Services.GetRequiredService<IDocumentStore>();

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("qemu");
        Settings = new(TestServices.Postgres, _vhost.ConnectionString, _schema.Name);
        var serve = Host.CreateApplicationBuilder();
        serve.Services.AddEventStore(Settings).AddBus(Settings, new BusOptions
        {
            Workflows = true,
            ConfigureTimeouts = timeouts => (timeouts.Prepare, timeouts.Rollback, timeouts.MaxAttempts, timeouts.Locate) =
                // Locate 20 s: a worker process restarted on a loaded machine (the whole suite running) once took longer
                // than 10 s to answer, and a recovery that should have rolled back ended undecided.
                (TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15), 2, TimeSpan.FromSeconds(20)),
        });
        _serve = serve.Build();

        // Migrations on qemu are encrypted unless the policy says otherwise: each host has credentials from infra/tls.sh.
        Lab.MakeTls(Source);
        Lab.MakeTls(Target);
        Lab.MakeTls(Rogue, caDirectory: Lab.CaDirectory + "-rogue");
        var worker = Host.CreateApplicationBuilder();
        worker.Services.AddBus(Settings, new BusOptions
        {
            Hypervisor = HypervisorKinds.Qemu,
            WorkerHosts = [Source, Target, Rogue, Bare],
            ConfigureQemu = qemu => (qemu.RuntimeRoot, qemu.PollInterval, qemu.TlsDirectory) = (Lab.Root, TimeSpan.FromMilliseconds(100), Lab.TlsDirectory),
            ConfigureWorker = w => w.HeartbeatInterval = TimeSpan.FromSeconds(1),
        });
        _worker = worker.Build();

        await _serve.StartAsync();
        await _worker.StartAsync();
    }

    /// <summary>
    /// Credentials (infra/tls.sh, the lab's CA) for <paramref name="hosts"/> served by a worker process of a test's own;
    /// returns its <c>Qemu:TlsDirectory</c>.
    /// </summary>
    public string TlsFor(params string[] hosts)
    {
        foreach (var host in hosts)
            Lab.MakeTls(host);
        return Lab.TlsDirectory;
    }

    /// <summary>Sends a StartMigration of <paramref name="vmId"/> from <see cref="Source"/> to <see cref="Target"/>.</summary>
    public Task<Guid> Migrate(string vmId, MigrationPolicy policy, string? strategy = null) => Migrate(vmId, Source, Target, policy, strategy);

    public async Task<Guid> Migrate(string vmId, string source, string target, MigrationPolicy policy, string? strategy = null)
    {
        var id = NewId.NextGuid();
        var endpoint = await _serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        await endpoint.Send(new StartMigration(id, vmId, source, target, HypervisorKinds.Qemu, strategy, policy, RequestedBy: "qemu-tests"));
        return id;
    }

    public async Task Cancel(Guid migrationId)
    {
        var endpoint = await _serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.CancelMigration}"));
        await endpoint.Send(new CancelMigration(migrationId, "test cancels during pre-copy", "qemu-tests"));
    }

    /// <summary>Sends a RecoverMigration of <paramref name="migrationId"/>, as <c>POST /api/migrations/{id}/recover</c> does.</summary>
    public async Task Recover(Guid migrationId)
    {
        var endpoint = await _serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.RecoverMigration}"));
        await endpoint.Send(new RecoverMigration(migrationId, "qemu-tests"));
    }

    /// <summary>Sends a DrainHost of <paramref name="host"/> to <paramref name="targets"/>, as <c>POST /api/drains</c> does; returns its id.</summary>
    public async Task<Guid> Drain(string host, params string[] targets)
    {
        var id = NewId.NextGuid();
        var endpoint = await _serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.DrainHost}"));
        await endpoint.Send(new DrainHost(id, host, HypervisorKinds.Qemu, targets, "qemu-tests"));
        return id;
    }

    /// <summary>Waits until the drain has finished (Drained, DrainedWithProblems or Failed).</summary>
    public async Task<DrainProgress> WaitForDrain(Guid drainId) =>
        (await Eventually.Get(async () =>
        {
            await using var session = Store.QuerySession();
            return await DrainProgress.Load(session, drainId);
        }, d => d is { IsFinished: true }, $"drain {drainId} to finish", TimeSpan.FromSeconds(90)))!;

    public async Task<MigrationSummary?> Summary(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return await session.Summary(migrationId);
    }

    public Task<MigrationSummary?> WaitFor(Guid migrationId, Func<MigrationSummary, bool> condition, string what) =>
        Eventually.Get(() => Summary(migrationId), s => s is not null && condition(s), what, TimeSpan.FromSeconds(60));

    public async Task<MigrationSummary> WaitForEnd(Guid migrationId) =>
        (await WaitFor(migrationId, s => s.IsTerminal, $"migration {migrationId} to end"))!;

    /// <summary>The migration's event stream, in order.</summary>
    public async Task<IReadOnlyList<object>> Events(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return [.. (await session.Events.FetchStreamAsync(migrationId)).Select(e => e.Data)];
    }

    /// <summary>The migration's events with their time after the first, for the test's output.</summary>
    public async Task<string> Timeline(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(migrationId);
        var start = events[0].Timestamp;
        return string.Join('\n', events.Select(e => $"{(e.Timestamp - start).TotalMilliseconds,8:0} ms  {e.Data.GetType().Name} {System.Text.Json.JsonSerializer.Serialize(e.Data)}"));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _worker.StopAsync();
            await _serve.StopAsync();
            _worker.Dispose();
            _serve.Dispose();
        }
        finally
        {
            await Lab.DisposeAsync();
            if (Directory.Exists(Lab.CaDirectory + "-rogue"))
                Directory.Delete(Lab.CaDirectory + "-rogue", recursive: true);
            await _vhost.DisposeAsync();
            await _schema.DisposeAsync();
        }
    }

}
