using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// An <c>orchestrator serve</c> host and an <c>orchestrator worker --driver sim</c> host on the real RabbitMQ (a virtual
/// host of their own) and PostgreSQL (a schema of their own), whose sim injects a fault into each of a few VMs.
/// </summary>
public sealed class SimFaultsOrchestrator : IAsyncLifetime
{
    const long MiB = 1024 * 1024;

    /// <summary>Each fault has hosts of its own: a dead host stays dead.</summary>
    public static readonly string[] Hosts = ["link-a", "link-b", "dies-a", "dies-b", "dies-c", "dies-d", "mute-a", "mute-b"];

    public const string LinkDropVm = "vm-link-drops";
    public const string SourceDiesVm = "vm-source-dies";
    public const string TargetDiesVm = "vm-target-dies";
    public const string SilentPrepareVm = "vm-silent-prepare";
    public const string SilentTransferVm = "vm-silent-transfer";
    public const string HungTransferVm = "vm-hung-transfer";

    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("simfault");
    IHost _serve = null!;
    IHost _worker = null!;

    public OrchestratorSettings Settings { get; private set; } = null!;

    public IServiceProvider Services => _serve.Services;

    public SimulatedFleet Fleet => _worker.Services.GetRequiredService<SimulatedFleet>();

    IDocumentStore Store => _serve.Services.GetRequiredService<IDocumentStore>();

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("simfault");
        var rabbit = _vhost.ConnectionString;
        Settings = new OrchestratorSettings(TestServices.Postgres, rabbit, _schema.Name);

        var serve = Host.CreateApplicationBuilder();
        serve.Services.AddEventStore(Settings).AddBus(Settings, new BusOptions
        {
            Workflows = true,
            // The prepare timeout also bounds the pre-flight check: 5 s, so that a check on a machine loaded by every other
            // test class still answers in time (once, at 2 s, one did not).
            ConfigureTimeouts = timeouts => (timeouts.Prepare, timeouts.Rollback, timeouts.MaxAttempts) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2),
        });
        _serve = serve.Build();

        var worker = Host.CreateApplicationBuilder();
        worker.Services.AddBus(Settings, new BusOptions
        {
            WorkerHosts = Hosts,
            ConfigureWorker = options => options.HeartbeatInterval = TimeSpan.FromMilliseconds(300),
            ConfigureSim = sim =>
            {
                // A pass over 1 GiB takes about 10 ms of wall time; under a 50 ms limit it needs a second pass.
                sim.RealTimeFactor = 0.01;
                foreach (var vm in new[] { LinkDropVm, SourceDiesVm, TargetDiesVm, SilentPrepareVm, SilentTransferVm, HungTransferVm })
                    sim.Vms[vm] = new SimVm(vm, 1L << 30, WorkingSetBytes: 256 * MiB, DirtyRateBytesPerSecond: 150 * MiB);
                sim.LinkDrops.Add(new SimLinkDrop(VmId: LinkDropVm, AtRound: 2));
                sim.HostCrashes.Add(new SimHostCrash("dies-a", VmId: SourceDiesVm, AtRound: 2));
                sim.HostCrashes.Add(new SimHostCrash("dies-d", VmId: TargetDiesVm, AtRound: 2));
                sim.Silences.Add(new SimSilence(MigrationSteps.PrepareTarget, VmId: SilentPrepareVm));
                sim.Silences.Add(new SimSilence(MigrationSteps.Transfer, VmId: SilentTransferVm, AfterRound: 1));
                sim.Silences.Add(new SimSilence(MigrationSteps.Transfer, VmId: HungTransferVm));
            },
        });
        _worker = worker.Build();

        await _serve.StartAsync();
        await _worker.StartAsync();
    }

    /// <summary>Starts a pre-copy of <paramref name="vm"/> that needs at least two passes to fit its downtime limit.</summary>
    public async Task<Guid> Migrate(string vm, string source, string target, MigrationPolicy? policy = null)
    {
        var command = new StartMigration(Guid.NewGuid(), vm, source, target, HypervisorKinds.Sim, MigrationStrategies.PreCopy,
            policy ?? new MigrationPolicy(MaxDowntimeMs: 50, MaxBandwidthMiBps: 1024, AllowPostCopy: false), "tests");
        var endpoint = await Services.GetRequiredService<MassTransit.IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        await endpoint.Send(command);
        return command.MigrationId;
    }

    public async Task<MigrationSummary?> Summary(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return await session.Summary(migrationId);
    }

    public async Task<IReadOnlyList<object>> Events(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return [.. (await session.Events.FetchStreamAsync(migrationId)).Select(e => e.Data)];
    }

    /// <summary>The migration's events with their times, one per line: where its time went, for a failure's message.</summary>
    public async Task<string> Timeline(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return string.Join("\n", (await session.Events.FetchStreamAsync(migrationId))
            .Select(e => $"{e.Timestamp:HH:mm:ss.fff} {e.Data.GetType().Name}{(e.Data is MigrationStateChanged c ? $" {c.FromState} -> {c.ToState}" : "")}"));
    }

    public Task<MigrationSummary?> WaitForEnd(Guid migrationId) =>
        Eventually.Get(() => Summary(migrationId), s => s is { IsTerminal: true }, $"migration {migrationId} to end", TimeSpan.FromSeconds(60));

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
            await _vhost.DisposeAsync();
            await _schema.DisposeAsync();
        }
    }

}
