using System.Diagnostics;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Bench;

/// <summary>
/// Replay and verification over a large history, beside the raw read rate of the same events table in the same run:
/// raw read = SELECT of every row and column of mt_events into .NET values; replay = Marten's daemon rebuilding every
/// migration summary from the streams (read, deserialize, apply, write the documents); verify = re-computing every
/// stream's hash chain from the rows (<see cref="ChainVerifier.VerifyAll"/>).
/// </summary>
public static class HistoryThroughput
{
    public sealed record Result(long Events, int Streams, TimeSpan Seed, TimeSpan Generating, TimeSpan Copying, TimeSpan RawRead, TimeSpan Replay, TimeSpan Verify, int Broken)
    {
        public double RawReadPerSecond => Events / RawRead.TotalSeconds;
        public double ReplayPerSecond => Events / Replay.TotalSeconds;
        public double VerifyPerSecond => Events / Verify.TotalSeconds;
    }

    public static async Task<Result> Measure(string postgres, long minimumEvents)
    {
        const string schema = "bench_history";
        // Dropped first too: a killed earlier run leaves it behind.
        await BenchSchema.Drop(postgres, schema);
        try
        {
            return await Measure(postgres, schema, minimumEvents);
        }
        finally
        {
            await BenchSchema.Drop(postgres, schema);
        }
    }

    static async Task<Result> Measure(string postgres, string schema, long minimumEvents)
    {
        await using var store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(postgres, "amqp://unused", schema)));
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

        var clock = Stopwatch.StartNew();
        var seeded = await HistorySeed.Write(store, minimumEvents);
        var seed = clock.Elapsed;

        // Once to warm the caches, then measured: the same table state the replay and the verification see.
        await RawRead(store);
        clock.Restart();
        var read = await RawRead(store);
        var rawRead = clock.Elapsed;
        if (read != seeded.Events)
            throw new InvalidOperationException($"Read {read} events, seeded {seeded.Events}.");

        clock.Restart();
        using (var daemon = await store.BuildProjectionDaemonAsync())
            await daemon.RebuildProjectionAsync(typeof(MigrationSummaryProjection), TimeSpan.FromMinutes(30), CancellationToken.None);
        var replay = clock.Elapsed;
        await using (var session = store.QuerySession())
        {
            var summaries = await session.Query<MigrationSummary>().CountAsync();
            var ended = await session.Query<MigrationSummary>().CountAsync(s => s.State == MigrationStates.Completed || s.State == MigrationStates.RolledBack);
            if (summaries != seeded.Streams || ended != seeded.Streams)
                throw new InvalidOperationException($"The replay built {summaries} summaries ({ended} ended) from {seeded.Streams} streams.");
        }

        clock.Restart();
        var verdicts = await ChainVerifier.VerifyAll(store);
        var verify = clock.Elapsed;
        if (verdicts.Count != seeded.Streams || verdicts.Sum(v => (long)v.Events) != seeded.Events)
            throw new InvalidOperationException($"Verified {verdicts.Count} streams, seeded {seeded.Streams}.");

        return new Result(seeded.Events, seeded.Streams, seed, seeded.Generating, seeded.Copying, rawRead, replay, verify, verdicts.Count(v => !v.Intact));
    }

    static async Task<long> RawRead(DocumentStore store)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select * from {store.Options.Events.DatabaseSchemaName}.mt_events", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new object[reader.FieldCount];
        long rows = 0;
        while (await reader.ReadAsync())
        {
            reader.GetValues(values);
            rows++;
        }
        return rows;
    }
}
