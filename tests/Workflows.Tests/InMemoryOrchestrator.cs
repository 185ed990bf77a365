using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The whole workflow in one process, as the demo runs it: the saga and the sim worker on MassTransit's in-memory
/// transport, on the real PostgreSQL in a schema of its own, dropped when it goes (unless the caller brought it).
/// </summary>
public sealed class InMemoryOrchestrator : IAsyncDisposable
{
    public static readonly string[] Hosts = ["host-a", "host-b", "host-c"];
    readonly IHost _host;
    readonly TestSchema? _ownSchema;

    InMemoryOrchestrator(IHost host, TestSchema? ownSchema) => (_host, _ownSchema) = (host, ownSchema);

    public IDocumentStore Store => _host.Services.GetRequiredService<IDocumentStore>();

    public SimulatedFleet Fleet => _host.Services.GetRequiredService<SimulatedFleet>();

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    /// <summary>What the intake knows of the saga's queue (in memory no probe reads it: a test reports a depth itself).</summary>
    public Intake.SagaBacklog Backlog => _host.Services.GetRequiredService<Intake.SagaBacklog>();

    public static async Task<InMemoryOrchestrator> StartAsync(Action<SimOptions>? sim = null, Action<AdmissionOptions>? admission = null,
        Action<MigrationPolicyOptions>? policies = null, Action<TimeoutOptions>? timeouts = null, Action<WorkerOptions>? worker = null,
        TestSchema? schema = null, Action<StoreOptions>? store = null, Action<Scheduling.HostLinkOptions>? links = null)
    {
        // A schema the caller brought outlives this orchestrator (a test that reads it afterwards); else it is ours.
        var ownSchema = schema is null ? TestSchema.Create("wf") : null;
        var settings = new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, (schema ?? ownSchema)!.Name);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            InMemory = true,
            WorkerHosts = Hosts,
            ConfigureSim = sim,
            ConfigureAdmission = admission,
            ConfigureLinks = links,
            ConfigurePolicies = policies,
            ConfigureTimeouts = timeouts,
            ConfigureWorker = worker,
        });
        if (store is not null)
            builder.Services.ConfigureMarten(store);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            if (ownSchema is not null)
                await ownSchema.DisposeAsync();
            throw;
        }
        return new InMemoryOrchestrator(host, ownSchema);
    }

    public async Task Send<T>(string queue, T command)
        where T : class
    {
        var endpoint = await _host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(command);
    }

    /// <summary>Sends a message of its runtime type, correlated with a migration, as the workers and the intake do.</summary>
    public async Task Send(string queue, object message, Guid migrationId)
    {
        var endpoint = await _host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(message, message.GetType(), Pipe.Execute<SendContext>(send => send.CorrelationId = migrationId));
    }

    public Task Start(StartMigration command) => Send(QueueNames.StartMigration, command);

    public async Task<MigrationSummary?> Summary(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return await session.Summary(migrationId);
    }

    public Task<MigrationSummary?> WaitFor(Guid migrationId, Func<MigrationSummary, bool> condition, string what) =>
        Eventually.Get(() => Summary(migrationId), s => s is not null && condition(s), what);

    public Task<MigrationSummary?> WaitForEnd(Guid migrationId) =>
        WaitFor(migrationId, s => s.IsTerminal, $"migration {migrationId} to end");

    public async Task<IReadOnlyList<object>> Events(Guid migrationId)
    {
        await using var session = Store.QuerySession();
        return (await session.History(migrationId)).Select(e => e.Data).ToList();
    }

    /// <summary>
    /// Plays the workers of hosts no worker serves up to a running transfer: the pre-flight passes, the target is
    /// prepared, and the migration is PreCopying.
    /// </summary>
    public async Task<Guid> PlayToTransfer(string vmId, string source, string target)
    {
        var command = NewMigration(vmId, source, target);
        var id = command.MigrationId;
        await Start(command);
        await WaitFor(id, s => s.State == MigrationStates.Checking, "the pre-flight check");
        var now = DateTimeOffset.UtcNow;
        await Send(QueueNames.MigrationSaga, new PreflightPassed(id, 2L << 30, 120, now), id);
        await WaitFor(id, s => s.State == MigrationStates.Preparing, "the preparation");
        await Send(QueueNames.MigrationSaga, new TargetPrepared(id, target, 1, now), id);
        await WaitFor(id, s => s.State == MigrationStates.PreCopying, "the transfer");
        return id;
    }

    public static StartMigration NewMigration(string vmId, string source = "host-a", string target = "host-b",
        MigrationPolicy? policy = null, string hypervisor = HypervisorKinds.Sim) =>
        new(NewId.NextGuid(), vmId, source, target, hypervisor, MigrationStrategies.PreCopy, policy, "tests");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        finally
        {
            if (_ownSchema is not null)
                await _ownSchema.DisposeAsync();
        }
    }
}
