using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Marten;
using Npgsql;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// Re-computes a stream's hash chain from the rows as PostgreSQL stores them (not from deserialized objects, so an
/// added or changed member is seen too) and names the first event that does not fit.
/// </summary>
public static class ChainVerifier
{
    sealed record StoredEvent(long Version, string Type, string Data, string? Hash, string? PreviousHash);

    public static async Task<ChainVerdict> Verify(IDocumentStore store, Guid streamId, CancellationToken cancellationToken = default) =>
        Verify(streamId, await Read(store, streamId, cancellationToken));

    /// <summary>
    /// Every stream, in one pass over the events table (ordered by stream and version): the rows are read on one thread
    /// while the hashes are re-computed on the others. One verdict per stream, in stream id order.
    /// </summary>
    public static async Task<IReadOnlyList<ChainVerdict>> VerifyAll(IDocumentStore store, CancellationToken cancellationToken = default)
    {
        var streams = Channel.CreateBounded<(Guid Id, List<StoredEvent> Events)>(new BoundedChannelOptions(1024) { SingleWriter = true });
        var verdicts = new ConcurrentBag<ChainVerdict>();
        var verifiers = Enumerable.Range(0, Math.Max(1, Environment.ProcessorCount)).Select(_ => Task.Run(async () =>
        {
            await foreach (var (id, events) in streams.Reader.ReadAllAsync(cancellationToken))
                verdicts.Add(Verify(id, events));
        }, cancellationToken)).ToArray();

        try
        {
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                $"select stream_id, version, type, data::text, headers->>'{HashChain.HashHeader}', headers->>'{HashChain.PreviousHashHeader}' "
                + $"from {store.Options.Events.DatabaseSchemaName}.mt_events order by stream_id, version", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            Guid? current = null;
            var events = new List<StoredEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var streamId = reader.GetGuid(0);
                if (streamId != current)
                {
                    if (current is { } done)
                        await streams.Writer.WriteAsync((done, events), cancellationToken);
                    current = streamId;
                    events = [];
                }
                events.Add(new StoredEvent(reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
            if (current is { } last)
                await streams.Writer.WriteAsync((last, events), cancellationToken);
        }
        finally
        {
            streams.Writer.TryComplete();
        }
        await Task.WhenAll(verifiers);
        return [.. verdicts.OrderBy(v => v.StreamId)];
    }

    static ChainVerdict Verify(Guid streamId, IReadOnlyList<StoredEvent> events)
    {
        var previous = HashChain.Genesis;
        long expectedVersion = 0;
        foreach (var e in events)
        {
            expectedVersion++;
            if (e.Version != expectedVersion)
                return Broken(e.Version, e.Version > expectedVersion
                    ? $"event {expectedVersion} is missing: deleted, or the versions were changed"
                    : $"event {e.Version} appears where event {expectedVersion} should be: inserted or reordered");
            if (e.Hash is null)
                return Broken(e.Version, $"event {e.Version} carries no hash: written outside the orchestrator, or its headers were removed");
            if (e.PreviousHash != previous)
                return Broken(e.Version, $"event {e.Version} does not chain to event {e.Version - 1}: an event before it was inserted, deleted or reordered");
            if (HashChain.Compute(previous, streamId, e.Version, e.Type, e.Data) != e.Hash)
                return Broken(e.Version, $"event {e.Version} ({e.Type}) does not match its hash: its content was altered");
            previous = e.Hash;
        }
        return ChainVerdict.Clean(streamId, events.Count);

        ChainVerdict Broken(long version, string problem) => new(streamId, events.Count, false, version, problem);
    }

    static async Task<IReadOnlyList<StoredEvent>> Read(IDocumentStore store, Guid streamId, CancellationToken cancellationToken)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        var table = $"{store.Options.Events.DatabaseSchemaName}.mt_events";
        await using var command = new NpgsqlCommand(
            $"select version, type, data::text, headers::text from {table} where stream_id = $1 order by version", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = streamId });
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            JsonElement? headers = reader.IsDBNull(3) ? null : JsonDocument.Parse(reader.GetString(3)).RootElement;
            events.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                Header(headers, HashChain.HashHeader), Header(headers, HashChain.PreviousHashHeader)));
        }
        return events;
    }

    static string? Header(JsonElement? headers, string name) =>
        headers is { ValueKind: JsonValueKind.Object } h && h.TryGetProperty(name, out var value) ? value.GetString() : null;
}
