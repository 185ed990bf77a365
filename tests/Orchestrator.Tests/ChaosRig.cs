using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// What a chaos test with real processes needs: a RabbitMQ vhost and a schema of its own, the environment that points
/// `orchestrator serve` and `orchestrator worker` at them, the commands as another service would publish them, and the
/// store to read the outcome from.
/// </summary>
public sealed class ChaosRig : IAsyncDisposable
{
    readonly RabbitVhost _vhost;
    readonly TestSchema _schema;

    ChaosRig(RabbitVhost vhost, TestSchema schema)
    {
        (_vhost, _schema) = (vhost, schema);
        Settings = new OrchestratorSettings(TestServices.Postgres, vhost.ConnectionString, schema.Name);
        Store = DocumentStore.For(options => Roles.Configure(options, Settings));
    }

    public OrchestratorSettings Settings { get; }

    public DocumentStore Store { get; }

    public static async Task<ChaosRig> Create(string prefix) => new(await RabbitVhost.Create(prefix), TestSchema.Create(prefix));

    /// <summary>serve's and the worker's settings, with admission wide enough for <paramref name="inFlight"/> at once.</summary>
    public Dictionary<string, string> Environment(int inFlight) => new()
    {
        ["ConnectionStrings__Postgres"] = Settings.Postgres,
        ["ConnectionStrings__RabbitMq"] = Settings.RabbitMq,
        ["Orchestrator__Schema"] = Settings.Schema,
        ["Timeouts__Prepare"] = "00:00:30",
        ["Admission__MaxOutboundPerHost"] = $"{inFlight}",
        ["Admission__MaxInboundPerHost"] = $"{inFlight}",
        ["Admission__MaxPerCluster"] = $"{inFlight}",
    };

    /// <summary>Waits until serve and the worker of <paramref name="workerHost"/> consume their queues.</summary>
    public async Task WaitForQueues(PlainAmqpClient client, string workerHost) =>
        await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", workerHost)),
            up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(90));

    /// <summary>A pre-copy of <paramref name="vm"/> at a bandwidth that takes about <paramref name="secondsPerPass"/> per pass over its memory.</summary>
    /// <remarks>At the worker's real-time factor of 0.02; a downtime limit of a minute: one round, then the stop-and-copy.</remarks>
    public static Task Start(PlainAmqpClient client, Guid id, string vm, string source, string target, double secondsPerPass) =>
        Start(client, id, vm, source, target, (int)Math.Max(1, SimVm.FromId(vm).MemoryBytes / (1L << 20) / (50 * secondsPerPass)), 60000);

    public static Task Start(PlainAmqpClient client, Guid id, string vm, string source, string target, int bandwidthMiBps, int maxDowntimeMs) =>
        client.PublishToQueue(QueueNames.StartMigration, $$"""
            {"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"{{source}}","targetHost":"{{target}}","hypervisor":"sim","strategy":"precopy",
             "policy":{"maxBandwidthMiBps":{{bandwidthMiBps}},"maxDowntimeMs":{{maxDowntimeMs}}} }
            """);

    public async Task<IReadOnlyList<MigrationSummary>> Summaries(Guid[] ids)
    {
        try
        {
            await using var session = Store.QuerySession();
            return await session.Query<MigrationSummary>().Where(s => ids.Contains(s.Id)).ToListAsync();
        }
        catch (NpgsqlException)
        {
            return [];
        }
    }

    /// <summary>Waits until every migration has ended; the summaries, with the processes' tails when it times out.</summary>
    public async Task<IReadOnlyList<MigrationSummary>> WaitForAllToEnd(Guid[] ids, TimeSpan timeout, params OrchestratorProcess[] processes)
    {
        try
        {
            return await Eventually.Get(() => Summaries(ids), all => all.Count == ids.Length && all.All(s => s.IsTerminal), "every migration to end", timeout);
        }
        catch (TimeoutException ended)
        {
            var states = (await Summaries(ids)).GroupBy(s => s.State).Select(g => $"{g.Key}: {g.Count()}");
            throw new TimeoutException($"{ended.Message}\nstates: {string.Join(", ", states)}\n"
                + string.Join("\n", processes.Select((p, i) => $"--- process {i} ---\n{Tail(p.Output)}")), ended);
        }
    }

    public async Task<IReadOnlyList<object>> Events(Guid id)
    {
        await using var session = Store.QuerySession();
        return (await session.History(id)).Select(e => e.Data).ToList();
    }

    public static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Store.DisposeAsync();
            await _vhost.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }
}
