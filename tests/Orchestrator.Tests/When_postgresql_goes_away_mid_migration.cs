using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// A database outage is waited out, never turned into an outcome: PostgreSQL stops for 15 s while 20 migrations run
/// (serve and a sim worker as real processes, on a PostgreSQL and a RabbitMQ virtual host of the test's own); every
/// migration completes, none fails, and nothing lands in an _error queue.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_postgresql_goes_away_mid_migration : IAsyncLifetime
{
    const int Migrations = 20;
    RabbitVhost _vhost = null!;
    PrivateService _postgres = null!;
    OrchestratorSettings _settings = null!;
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _postgres = await PrivateService.StartPostgres();
        _vhost = await RabbitVhost.Create("pg-outage");
        var rabbit = _vhost.ConnectionString;
        _settings = new OrchestratorSettings(_postgres.ConnectionString, rabbit, "outage");
        _store = DocumentStore.For(options => Roles.Configure(options, _settings));
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _vhost.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Should_complete_every_migration_and_fault_no_message()
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = _settings.Postgres,
            ["ConnectionStrings__RabbitMq"] = _settings.RabbitMq,
            ["Orchestrator__Schema"] = _settings.Schema,
            ["Admission__MaxOutboundPerHost"] = $"{Migrations}",
            ["Admission__MaxInboundPerHost"] = $"{Migrations}",
            ["Admission__MaxPerCluster"] = $"{Migrations}",
        };
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "pg-a", "--host", "pg-b",
            "--real-time-factor", "0.02");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        var ids = Enumerable.Range(0, Migrations).Select(_ => Guid.NewGuid()).ToArray();
        await using var client = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq);
        await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", "pg-b")),
            up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(60));
        for (var i = 0; i < Migrations; i++)
        {
            var vm = $"vm-outage-{i}";
            // About five seconds per pass over the whole memory: the outage falls in the middle of the transfers.
            var bandwidth = (int)Math.Max(1, SimVm.FromId(vm).MemoryBytes / (1L << 20) / 250);
            await client.PublishToQueue(QueueNames.StartMigration, $$"""
                {"migrationId":"{{ids[i]}}","vmId":"{{vm}}","sourceHost":"pg-a","targetHost":"pg-b","hypervisor":"sim","strategy":"precopy",
                 "policy":{"maxBandwidthMiBps":{{bandwidth}},"maxDowntimeMs":60000} }
                """);
        }
        await Eventually.Get(() => States(ids), states => states.All(s => s == MigrationStates.PreCopying),
            "every migration to be transferring", TimeSpan.FromSeconds(90));

        await _postgres.Stop();
        // Fifteen seconds of outage, measured by the clock the migrations run on: nothing here waits on a condition,
        // the database is simply away for that long.
        await Task.Delay(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        await _postgres.Start();

        string?[] final;
        try
        {
            final = await Eventually.Get(() => States(ids), states => states.All(s => s is not null && MigrationStates.IsTerminal(s)),
                "every migration to end", TimeSpan.FromSeconds(180));
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\n--- serve ---\n{Tail(serve.Output)}", timeout);
        }
        final.ShouldAllBe(state => state == MigrationStates.Completed, Tail(serve.Output));
        foreach (var queue in new[] { QueueNames.MigrationSaga, QueueNames.StartMigration })
            (await client.MessageCount(queue + "_error")).ShouldBe(0u, $"{queue}_error");
        // The events' marker interface is not part of the bus topology.
        (await client.ExchangeExists("Orchestrator.Contracts:MigrationCompleted")).ShouldBeTrue();
        (await client.ExchangeExists("Orchestrator.Contracts:IMigrationEvent")).ShouldBeFalse();
    }

    async Task<string?[]> States(Guid[] ids)
    {
        try
        {
            await using var session = _store.QuerySession();
            var summaries = await session.Query<MigrationSummary>().Where(s => ids.Contains(s.Id)).ToListAsync();
            return [.. ids.Select(id => summaries.FirstOrDefault(s => s.Id == id)?.State)];
        }
        catch (NpgsqlException)
        {
            // A pooled connection from before the restart: the next look gets a fresh one.
            return new string?[ids.Length];
        }
    }

    static string Tail(string output) => output.Length > 6000 ? output[^6000..] : output;
}
