using JasperFx.Events;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.Bench;

/// <summary>
/// Writes realistic migration histories straight into Marten's tables with COPY: every event serialized by the store's
/// own serializer, named as Marten names it, and hash-chained exactly as the orchestrator's listener chains it, so the
/// store cannot tell these streams from ones the saga wrote (the verification in the same run proves the chains valid).
/// </summary>
public static class HistorySeed
{
    const int StreamsPerChunk = 4096;
    const long GiB = 1L << 30;

    sealed record Row(Guid StreamId, long Version, string Type, string DotNetType, string Data, string Headers, DateTimeOffset Timestamp);

    public sealed record Seeded(long Events, int Streams, TimeSpan Generating, TimeSpan Copying);

    public static async Task<Seeded> Write(DocumentStore store, long minimumEvents)
    {
        var options = store.Options;
        var serializer = options.Serializer();
        var schema = options.Events.DatabaseSchemaName;
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        long events = 0;
        var streams = 0;
        var generating = new System.Diagnostics.Stopwatch();
        var copying = new System.Diagnostics.Stopwatch();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync();

        while (events < minimumEvents)
        {
            var chunk = new List<Row>[StreamsPerChunk];
            var first = streams;
            generating.Start();
            Parallel.For(0, StreamsPerChunk, i => chunk[i] = Chain(serializer, Migration(first + i, start)));
            generating.Stop();
            copying.Start();

            await using (var importer = await connection.BeginBinaryImportAsync(
                $"COPY {schema}.mt_streams (id, version, timestamp, created, tenant_id) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var stream in chunk)
                {
                    await importer.StartRowAsync();
                    await importer.WriteAsync(stream[0].StreamId, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(stream[^1].Version, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(stream[^1].Timestamp, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync(stream[0].Timestamp, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync("*DEFAULT*", NpgsqlDbType.Varchar);
                }
                await importer.CompleteAsync();
            }

            await using (var importer = await connection.BeginBinaryImportAsync(
                $"COPY {schema}.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, "
                + "correlation_id, causation_id, headers, is_archived) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var row in chunk.SelectMany(s => s))
                {
                    events++;
                    await importer.StartRowAsync();
                    await importer.WriteAsync(events, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                    await importer.WriteAsync(row.StreamId, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(row.Version, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(row.Data, NpgsqlDbType.Jsonb);
                    await importer.WriteAsync(row.Type, NpgsqlDbType.Varchar);
                    await importer.WriteAsync(row.Timestamp, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync("*DEFAULT*", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(row.DotNetType, NpgsqlDbType.Varchar);
                    await importer.WriteAsync(row.StreamId.ToString(), NpgsqlDbType.Varchar);
                    await importer.WriteAsync(row.StreamId.ToString(), NpgsqlDbType.Varchar);
                    await importer.WriteAsync(row.Headers, NpgsqlDbType.Jsonb);
                    await importer.WriteAsync(false, NpgsqlDbType.Boolean);
                }
                await importer.CompleteAsync();
            }
            copying.Stop();
            streams += StreamsPerChunk;
        }

        await using var finish = new NpgsqlCommand(
            $"select setval('{schema}.mt_events_sequence', {events}); analyze {schema}.mt_events; analyze {schema}.mt_streams", connection);
        await finish.ExecuteNonQueryAsync();
        return new Seeded(events, streams, generating.Elapsed, copying.Elapsed);
    }

    static List<Row> Chain(Marten.ISerializer serializer, IReadOnlyList<object> migration)
    {
        var rows = new List<Row>(migration.Count);
        var streamId = ((MigrationRequested)migration[0]).MigrationId;
        var previous = HashChain.Genesis;
        for (var i = 0; i < migration.Count; i++)
        {
            var data = migration[i];
            var type = data.GetType();
            var typeName = type.GetEventTypeName();
            var json = serializer.ToJson(data);
            var version = i + 1L;
            // Hash version 2, as the listener writes it: the time as stored, correlation and causation as COPY writes them below.
            var timestamp = HashChain.ToStoredPrecision(TimestampOf(data));
            var unhashed = $$"""{"principal":"bench-service","{{HashChain.VersionHeader}}":{{HashChain.CurrentVersion}}}""";
            var hash = HashChain.ComputeV2(previous, new StoredEvent(0, streamId, version, typeName, timestamp, streamId.ToString(), streamId.ToString(),
                IsArchived: false, unhashed, json));
            var headers = $$"""{"principal":"bench-service","{{HashChain.VersionHeader}}":{{HashChain.CurrentVersion}},"{{HashChain.PreviousHashHeader}}":"{{previous}}","{{HashChain.HashHeader}}":"{{hash}}"}""";
            rows.Add(new Row(streamId, version, typeName, $"{type.FullName}, {type.Assembly.GetName().Name}", json, headers, timestamp));
            previous = hash;
        }
        return rows;
    }

    static DateTimeOffset TimestampOf(object data) => (DateTimeOffset)data.GetType().GetProperty("Timestamp")!.GetValue(data)!;

    /// <summary>One migration of a fleet: mostly pre-copy that converges after a few passes, some roll back after a failed transfer.</summary>
    static List<object> Migration(int n, DateTimeOffset start)
    {
        var random = new Random(n);
        var id = Guid.NewGuid();
        var vm = $"vm-{n}";
        var source = $"host-{random.Next(50)}";
        var target = $"host-{(int.Parse(source[5..]) + 1 + random.Next(49)) % 50}";
        var hypervisor = random.Next(10) < 7 ? HypervisorKinds.Sim : HypervisorKinds.Qemu;
        var strategy = MigrationStrategies.All[random.Next(MigrationStrategies.All.Count)];
        var memory = (1 + random.Next(16)) * GiB;
        var t = start.AddSeconds(n * 2);
        var policy = new MigrationPolicy(300, 1024, 150, 150, strategy != MigrationStrategies.PreCopy, true, random.Next(3));
        // Each transition ends with the state change the saga records.
        MigrationStateChanged Moved(string? from, string to, DateTimeOffset at) => new(id, vm, from, to, at);
        var events = new List<object>
        {
            new MigrationRequested(id, vm, source, target, hypervisor, strategy, policy, "bench-service", t),
            new MigrationAdmitted(id, 1, t.AddMilliseconds(1)), Moved(null, "Checking", t.AddMilliseconds(1)),
            new PreflightPassed(id, memory, 50 + random.Next(200), t.AddMilliseconds(8)), Moved("Checking", "Preparing", t.AddMilliseconds(8)),
            new TargetPrepared(id, target, 1, t.AddMilliseconds(60)), Moved("Preparing", "PreCopying", t.AddMilliseconds(60)),
        };
        var remaining = memory;
        var clock = t.AddMilliseconds(60);
        var rounds = 3 + random.Next(6);
        for (var round = 1; round <= rounds; round++)
        {
            var sent = round == 1 ? memory : remaining;
            remaining = Math.Max(1 << 20, remaining / (3 + random.Next(4)));
            clock = clock.AddMilliseconds(sent / (1 << 20));
            events.Add(new PreCopyRoundCompleted(id, round, sent, remaining, 50L << 20, 1L << 30, remaining / 1_073_741.824, clock));
            if (round == 4 && random.Next(3) == 0)
                events.Add(new MigrationPolicyAdjusted(id, "RaiseDowntime", "remaining bytes stopped shrinking", 300, 0, clock));
        }
        if (random.Next(10) == 0)
        {
            events.Add(new MigrationStepFailed(id, MigrationSteps.Transfer, "connection reset by peer", source, clock.AddMilliseconds(5)));
            events.Add(new MigrationRollingBack(id, "The transfer failed: connection reset by peer", false, clock.AddMilliseconds(5)));
            events.Add(Moved("PreCopying", "RollingBack", clock.AddMilliseconds(5)));
            events.Add(new MigrationAborted(id, source, clock.AddMilliseconds(20)));
            events.Add(Moved("RollingBack", "DestroyingTarget", clock.AddMilliseconds(20)));
            events.Add(new TargetDestroyed(id, target, clock.AddMilliseconds(40)));
            events.Add(new MigrationRolledBack(id, "The transfer failed: connection reset by peer", source, clock.AddMilliseconds(40)));
            events.Add(Moved("DestroyingTarget", "RolledBack", clock.AddMilliseconds(40)));
            return events;
        }
        var downtime = 20 + random.NextDouble() * 250;
        events.Add(new StopAndCopyCompleted(id, downtime, remaining, clock.AddMilliseconds(downtime)));
        events.Add(Moved("PreCopying", "SwitchingOver", clock.AddMilliseconds(downtime)));
        events.Add(new SwitchoverCompleted(id, target, memory + remaining, clock.AddMilliseconds(downtime + 1)));
        events.Add(Moved("SwitchingOver", "CleaningUp", clock.AddMilliseconds(downtime + 1)));
        events.Add(new SourceCleanedUp(id, source, clock.AddMilliseconds(downtime + 30)));
        events.Add(new MigrationCompleted(id, vm, target, downtime, (clock.AddMilliseconds(downtime + 30) - t).TotalMilliseconds,
            clock.AddMilliseconds(downtime + 30)));
        events.Add(Moved("CleaningUp", "Completed", clock.AddMilliseconds(downtime + 30)));
        return events;
    }
}
