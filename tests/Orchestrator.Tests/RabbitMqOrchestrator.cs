using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Hosting;
using Orchestrator.Workers.Sim;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Production's shape on one machine: an <c>orchestrator serve</c> host and an <c>orchestrator worker --driver sim</c>
/// host, talking over the real RabbitMQ, storing in the real PostgreSQL (a schema of their own).
/// </summary>
public sealed class RabbitMqOrchestrator : IAsyncLifetime
{
    public static readonly string[] Hosts = ["e2e-a", "e2e-b", "e2e-drained"];

    /// <summary>The VMs that run on e2e-drained when the worker starts, for the drain test (no other test touches them).</summary>
    public static readonly string[] DrainedVms = ["vm-drained-1", "vm-drained-2", "vm-drained-3"];

    /// <summary>VMs whose migration at 1 MiB/s takes seconds of wall time (4 GiB at a thousandth of real time).</summary>
    public const string ContestedVm = "vm-contested";

    public const string CancelledVm = "vm-cancelled";

    /// <summary>A VM whose first pass at 1 MiB/s takes about ten seconds of wall time: long enough to watch.</summary>
    public const string WatchedVm = "vm-watched";
    readonly TestSchema _schema = TestSchema.Create("e2e");
    IHost _serve = null!;
    IHost _worker = null!;

    public RabbitMqOrchestrator() => Settings = new(TestServices.Postgres, TestServices.RabbitMq, _schema.Name);

    public OrchestratorSettings Settings { get; }

    public IDocumentStore Store => _serve.Services.GetRequiredService<IDocumentStore>();

    public IServiceProvider Services => _serve.Services;

    public async ValueTask InitializeAsync()
    {
        var serve = Host.CreateApplicationBuilder();
        serve.Services.AddEventStore(Settings).AddBus(Settings, new BusOptions
        {
            Workflows = true,
            // Short enough to watch a worker that never answers; long enough for every worker that does, even the first
            // pre-flight of a freshly started worker while other test processes hold both cores (2 s was not).
            ConfigureTimeouts = timeouts => (timeouts.Prepare, timeouts.Rollback, timeouts.MaxAttempts) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2),
        });
        _serve = serve.Build();

        var worker = Host.CreateApplicationBuilder();
        worker.Services.AddBus(Settings, new BusOptions
        {
            WorkerHosts = Hosts,
            ConfigureSim = sim =>
            {
                // A thousandth of real time: a default migration takes milliseconds, a throttled one long enough to race.
                sim.RealTimeFactor = 0.001;
                sim.Vms[ContestedVm] = new SimVm(ContestedVm, 4L << 30, WorkingSetBytes: 8L << 20, DirtyRateBytesPerSecond: 1L << 20);
                // Sixteen seconds at 1 MiB/s: time enough for a CLI process to start and cancel it, even on a busy machine.
                sim.Vms[CancelledVm] = new SimVm(CancelledVm, 16L << 30, WorkingSetBytes: 8L << 20, DirtyRateBytesPerSecond: 1L << 20);
                foreach (var vm in DrainedVms)
                    sim.Placements[vm] = "e2e-drained";
                sim.Vms[WatchedVm] = new SimVm(WatchedVm, 10L << 30, WorkingSetBytes: 8L << 20, DirtyRateBytesPerSecond: 1L << 20);
            },
        });
        _worker = worker.Build();

        await _serve.StartAsync();
        await _worker.StartAsync();
        await WarmUp();
    }

    /// <summary>
    /// One migration end to end before the first test: the first command pays for what a cold process does once (the
    /// schema's tables, the first connections, the JIT), which on a loaded machine took longer than a test waits. So
    /// long, sometimes, that the warm-up itself is rejected (a fresh clone's run: "did not answer the pre-flight check
    /// within 5 s", with the other test projects compiling and running beside it): then it is tried again, up to three
    /// times, and only a system that cannot complete any of them stops the collection.
    /// </summary>
    async Task WarmUp()
    {
        var intake = await Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        var outcomes = new List<string>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var id = Guid.NewGuid();
            await intake.Send(new StartMigration(id, $"vm-warm-up-{attempt}", "e2e-a", "e2e-b", HypervisorKinds.Sim, RequestedBy: "test-fixture"));
            var summary = await Eventually.Get(() => Summary(id), s => s is { IsTerminal: true }, "the warm-up migration to end", TimeSpan.FromMinutes(3));
            if (summary!.State == MigrationStates.Completed)
                return;
            outcomes.Add($"{summary.State}: {summary.Reason}");
            Console.WriteLine($"Warm-up migration {attempt} of 3 ended {summary.State}: {summary.Reason}");
        }
        throw new InvalidOperationException($"No warm-up migration completed: {string.Join(" / ", outcomes)}");
    }

    public async Task<MigrationSummary?> Summary(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return await session.Summary(migrationId);
    }

    public Task<MigrationSummary?> WaitForEnd(Guid migrationId) =>
        Eventually.Get(() => Summary(migrationId), s => s is { IsTerminal: true }, $"migration {migrationId} to end");

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
            await _schema.DisposeAsync();
        }
    }
}
