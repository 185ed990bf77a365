using System.Collections.Concurrent;
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
    public sealed record Result(long Events, int Streams, TimeSpan Seed, TimeSpan Generating, TimeSpan Copying, TimeSpan RawRead, TimeSpan Replay, TimeSpan Verify, int Broken,
        TimeSpan VerifyCompute, TimeSpan BulkReplay, TimeSpan VerifyRead, CpuTime.Sample RawReadCpu, CpuTime.Sample VerifyCpu, CpuTime.Sample RebuildCpu,
        TimeSpan RawReadPasses, TimeSpan VerifyPasses, TimeSpan RebuildPasses)
    {
        /// <summary>How many of the machine's cores <paramref name="cpu"/> kept busy over <paramref name="passes"/> (its three passes' wall time).</summary>
        public static double CoresBusy(CpuTime.Sample cpu, TimeSpan passes) => (cpu.Process + cpu.Postgres) / passes;

        /// <summary>CPU per event, this process and PostgreSQL's, over the three passes of <paramref name="cpu"/>.</summary>
        public (double Process, double Postgres) MicrosecondsPerEvent(CpuTime.Sample cpu) =>
            (cpu.Process.TotalMicroseconds / 3 / Events, cpu.Postgres.TotalMicroseconds / 3 / Events);

        /// <summary>Verify's own read (its query, every row parsed as verify parses it), no hash: what verify cannot go below.</summary>
        public double VerifyReadPerSecond => Events / VerifyRead.TotalSeconds;

        public double BulkReplayPerSecond => Events / BulkReplay.TotalSeconds;

        /// <summary>The hash chains' own cost, one thread, the rows already in memory: what verify adds to the read.</summary>
        public double VerifyComputeMicrosecondsPerEvent => VerifyCompute.TotalMicroseconds / Events;

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

        // Once to warm the caches.
        await RawRead(store);

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

        // Three rounds of the raw read, the ordered rebuild (what an operator's rebuild runs) and verify, interleaved, the
        // best pass of each kept: a spell of a slower machine (a shared host) falls on all three alike, not on one.
        var rawRead = new Passes();
        var rebuild = new Passes();
        var verify = new Passes();
        IReadOnlyList<ChainVerdict> verdicts = [];
        for (var round = 0; round < 3; round++)
        {
            var read = await rawRead.Time(() => RawRead(store));
            if (read != seeded.Events)
                throw new InvalidOperationException($"Read {read} events, seeded {seeded.Events}.");
            var rebuilt = await rebuild.Time(() => SummaryRebuild.Run(store));
            if (rebuilt != seeded.Streams)
                throw new InvalidOperationException($"The ordered rebuild wrote {rebuilt} summaries from {seeded.Streams} streams.");
            verdicts = await verify.Time(() => ChainVerifier.VerifyAll(store));
            if (verdicts.Count != seeded.Streams || verdicts.Sum(v => (long)v.Events) != seeded.Events)
                throw new InvalidOperationException($"Verified {verdicts.Count} streams, seeded {seeded.Streams}.");
        }

        var compute = await VerifyCompute(store);
        clock.Restart();
        await VerifyRead(store);
        var verifyRead = clock.Elapsed;
        return new Result(seeded.Events, seeded.Streams, seed, seeded.Generating, seeded.Copying, rawRead.Best, replay, verify.Best, verdicts.Count(v => !v.Intact),
            compute, rebuild.Best, verifyRead, rawRead.Cpu, verify.Cpu, rebuild.Cpu, rawRead.Total, verify.Total, rebuild.Total);
    }

    /// <summary>The passes of one kind: the fastest, their wall time together and the CPU they used (here and in PostgreSQL).</summary>
    sealed class Passes
    {
        public TimeSpan Best { get; private set; } = TimeSpan.MaxValue;
        public TimeSpan Total { get; private set; }
        public CpuTime.Sample Cpu { get; private set; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

        public async Task<T> Time<T>(Func<Task<T>> pass)
        {
            var cpu = CpuTime.Now();
            var clock = Stopwatch.StartNew();
            var result = await pass();
            var elapsed = clock.Elapsed;
            Cpu += CpuTime.Now() - cpu;
            Best = elapsed < Best ? elapsed : Best;
            Total += elapsed;
            return result;
        }
    }

    /// <summary>Every stream's chain re-computed on one thread from rows read beforehand (the fastest of three passes).</summary>
    static async Task<TimeSpan> VerifyCompute(DocumentStore store)
    {
        var streams = new List<List<StoredEvent>>();
        await using (var connection = store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                $"select {EventRows.Columns} from {EventRows.Table(store)} e order by e.stream_id, e.version", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var e = EventRows.ReadUtf8(reader);
                if (streams.Count == 0 || streams[^1][0].StreamId != e.StreamId)
                    streams.Add([]);
                streams[^1].Add(e);
            }
        }
        var best = TimeSpan.MaxValue;
        for (var pass = 0; pass < 3; pass++)
        {
            // Fresh rows each pass (a copy parses again): a row keeps what it parsed of its headers.
            var rows = streams.Select(s => s.Select(e => e with { }).ToList()).ToList();
            var clock = Stopwatch.StartNew();
            foreach (var stream in rows)
                if (!ChainVerifier.Verify(stream[0].StreamId, stream).Intact)
                    throw new InvalidOperationException($"Stream {stream[0].StreamId} does not verify.");
            best = clock.Elapsed < best ? clock.Elapsed : best;
        }
        return best;
    }

    static async Task<long> VerifyRead(DocumentStore store)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select {EventRows.Columns} from {EventRows.Table(store)} e order by e.seq_id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        // As verify's reader reads: into pooled chunks, given back every batch.
        var arena = new ByteArena(new ConcurrentQueue<byte[]>());
        var types = new EventRows.EventTypeNames();
        long rows = 0;
        while (reader.Read())
        {
            EventRows.ReadUtf8(reader, arena, types);
            if (++rows % 256 == 0)
                arena.Return();
        }
        return rows;
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
