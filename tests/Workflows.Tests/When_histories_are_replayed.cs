using System.Text.Json;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workflows.Tests;

/// <summary>Invariant 5: the read model can be rebuilt from the events alone, for every outcome, at every version.</summary>
[Trait("Category", "Integration")]
public sealed class When_histories_are_replayed
{
    [Fact]
    public async Task Should_rebuild_exactly_the_stored_summary_of_100_migrations_of_mixed_outcomes()
    {
        // The test's own schema: the rebuild below reads it after the orchestrator has gone.
        await using var schema = TestSchema.Create("wf");
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(
            sim =>
            {
                for (var i = 0; i < 100; i += 4)
                    sim.Faults.Add(new SimFault(MigrationSteps.Transfer, $"vm-replay-{i + 1}"));
            },
            admission: limits => (limits.MaxOutboundPerHost, limits.MaxInboundPerHost, limits.MaxPerCluster) = (4, 4, 8), schema: schema);
        // Every fourth completes, one fails and rolls back, one is invalid, one carries a named-policy label.
        var commands = Enumerable.Range(0, 100).Select(i => (i % 4) switch
        {
            2 => InMemoryOrchestrator.NewMigration($"vm-replay-{i}", source: "host-a", target: "host-a"),
            _ => InMemoryOrchestrator.NewMigration($"vm-replay-{i}", source: InMemoryOrchestrator.Hosts[i % 3],
                target: InMemoryOrchestrator.Hosts[(i + 1) % 3]),
        }).ToList();

        foreach (var command in commands)
            await orchestrator.Start(command);
        var summaries = new List<MigrationSummary>();
        foreach (var command in commands)
            summaries.Add((await Eventually.Get(() => orchestrator.Summary(command.MigrationId), s => s is { IsTerminal: true },
                $"migration {command.MigrationId} to end", TimeSpan.FromSeconds(120)))!);

        summaries.Select(s => s.State).Distinct().Count().ShouldBeGreaterThanOrEqualTo(3, string.Join(",", summaries.Select(s => s.State).Distinct()));
        await using var session = orchestrator.Store.QuerySession();
        foreach (var stored in summaries)
        {
            var events = await session.History(stored.Id);
            var rebuilt = await MigrationReplay.AsOf(session, stored.Id);
            JsonSerializer.Serialize(rebuilt).ShouldBe(JsonSerializer.Serialize(stored));
            // Before the state change into its terminal state a replayed migration is still under way; from it on, it has ended.
            var ended = events.First(e => e.Data is MigrationStateChanged changed && MigrationStates.IsTerminal(changed.ToState)).Version;
            for (var version = 1; version <= events.Count; version++)
            {
                var atVersion = await MigrationReplay.AsOf(session, stored.Id, version);
                atVersion!.LastEventVersion.ShouldBe(version);
                atVersion.IsTerminal.ShouldBe(version >= ended, $"{stored.Id} at version {version}");
            }
        }

        // Every projection, the asynchronous ones included, rebuilt by Marten's daemon from the events alone, equals
        // what was stored while the migrations ran.
        await WaitForTheAsyncProjections(orchestrator.Store);
        var hostLoads = await Stored<HostLoad>(orchestrator.Store, h => h.Id);
        var attention = await Stored<MigrationAttention>(orchestrator.Store, a => a.Id.ToString());
        var storedSummaries = await Stored<MigrationSummary>(orchestrator.Store, s => s.Id.ToString());
        hostLoads.ShouldContain("\"TotalOutbound\":");
        await orchestrator.DisposeAsync();

        await using var store = DocumentStore.For(options =>
            Roles.Configure(options, new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, schema.Name)));
        using var daemon = await store.BuildProjectionDaemonAsync();
        foreach (var projection in new[] { typeof(HostLoadProjection), typeof(AttentionProjection), typeof(MigrationSummaryProjection) })
            await daemon.RebuildProjectionAsync(projection, TimeSpan.FromSeconds(60), CancellationToken.None);
        (await Stored<HostLoad>(store, h => h.Id)).ShouldBe(hostLoads);
        (await Stored<MigrationAttention>(store, a => a.Id.ToString())).ShouldBe(attention);
        (await Stored<MigrationSummary>(store, s => s.Id.ToString())).ShouldBe(storedSummaries);
        var totals = JsonSerializer.Deserialize<HostLoad[]>(hostLoads)!;
        totals.Sum(h => h.TotalOutbound).ShouldBe(summaries.Count(s => s.SourceHost is not null));
        totals.ShouldAllBe(h => h.Migrations.Count == 0);
    }

    static async Task<string> Stored<T>(IDocumentStore store, Func<T, string> key)
        where T : notnull
    {
        await using var session = store.QuerySession();
        return JsonSerializer.Serialize((await session.Query<T>().ToListAsync()).OrderBy(key, StringComparer.Ordinal));
    }

    /// <summary>Waits until every asynchronous projection has processed the last stored event.</summary>
    static async Task WaitForTheAsyncProjections(IDocumentStore store)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var max = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", connection);
        var last = (long)(await max.ExecuteScalarAsync())!;
        await Eventually.Get(async () => await store.Advanced.AllProjectionProgress(),
            shards => shards.Count(s => s.ShardName != "HighWaterMark") == 2
                      && shards.Where(s => s.ShardName != "HighWaterMark").All(s => s.Sequence >= last),
            "the asynchronous projections to catch up", TimeSpan.FromSeconds(60));
    }
}
