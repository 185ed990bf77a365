using Marten;
using Npgsql;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// Stamps every event appended through any session with its place in its stream's hash chain (hash version 2, see
/// <see cref="HashChain"/>), just before the session commits. The previous hash comes from the stream's last stored event; two sessions racing on one stream
/// cannot both commit (the migration saga's optimistic concurrency), so the chain stays linear.
/// </summary>
public sealed class HashChainListener : DocumentSessionListenerBase
{
    public override async Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        var streams = session.PendingChanges.Streams().ToList();
        if (streams.Count == 0)
            return;
        var serializer = session.DocumentStore.Options.Serializer();
        var heads = await Heads(session, [.. streams.Select(s => s.Id).Distinct()], token);
        foreach (var stream in streams)
        {
            var (previous, version) = heads.GetValueOrDefault(stream.Id, (HashChain.Genesis, 0L));
            foreach (var e in stream.Events)
            {
                version++;
                // The row keeps microseconds: the time is cut to them here so that the hash covers what is stored.
                e.Timestamp = HashChain.ToStoredPrecision(e.Timestamp);
                e.SetHeader(HashChain.VersionHeader, HashChain.CurrentVersion);
                e.Headers!.Remove(HashChain.HashHeader);
                e.Headers.Remove(HashChain.PreviousHashHeader);
                var stored = new StoredEvent(0, stream.Id, version, e.EventTypeName, e.Timestamp, e.CorrelationId, e.CausationId,
                    IsArchived: false, serializer.ToJson(e.Headers), serializer.ToJson(e.Data));
                var hash = HashChain.ComputeV2(previous, stored);
                e.SetHeader(HashChain.PreviousHashHeader, previous);
                e.SetHeader(HashChain.HashHeader, hash);
                previous = hash;
            }
        }
    }

    /// <summary>
    /// Each stream's last stored version and hash, in one query for every stream the session appends to (several when
    /// it is a group commit): on the session's own connection when it has one open (its transaction, no second
    /// connection), else on a connection of its own. A stream with no stored event is not in the answer.
    /// </summary>
    static async Task<Dictionary<Guid, (string Hash, long Version)>> Heads(IDocumentSession session, Guid[] streamIds, CancellationToken token)
    {
        var store = session.DocumentStore;
        if (session.Connection is { State: System.Data.ConnectionState.Open } open)
            return await Heads(open, store, streamIds, token);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(token);
        return await Heads(connection, store, streamIds, token);
    }

    static async Task<Dictionary<Guid, (string Hash, long Version)>> Heads(NpgsqlConnection connection, IDocumentStore store, Guid[] streamIds,
        CancellationToken token)
    {
        var table = $"{store.Options.Events.DatabaseSchemaName}.mt_events";
        var hash = $"headers->>'{HashChain.HashHeader}'";
        // One stream (the common case): the index's last entry. Several: that, per stream, in one statement.
        await using var command = new NpgsqlCommand(streamIds.Length == 1
            ? $"select stream_id, version, {hash} from {table} where stream_id = $1 order by version desc limit 1"
            : $"select h.stream_id, h.version, h.hash from unnest($1::uuid[]) as s(id) cross join lateral "
                + $"(select stream_id, version, {hash} as hash from {table} where stream_id = s.id order by version desc limit 1) h",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = streamIds.Length == 1 ? streamIds[0] : streamIds });
        await using var reader = await command.ExecuteReaderAsync(token);
        var heads = new Dictionary<Guid, (string Hash, long Version)>(streamIds.Length);
        while (await reader.ReadAsync(token))
            heads[reader.GetGuid(0)] = (reader.IsDBNull(2) ? HashChain.Genesis : reader.GetString(2), reader.GetInt64(1));
        return heads;
    }
}
