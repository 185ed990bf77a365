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
        var serializer = session.DocumentStore.Options.Serializer();
        foreach (var stream in session.PendingChanges.Streams())
        {
            var (previous, version) = await Head(session, stream.Id, token);
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
    /// The stream's last stored version and hash, in one query: on the session's own connection when it has one open
    /// (its transaction, no second connection), else on a connection of its own.
    /// </summary>
    static async Task<(string Hash, long Version)> Head(IDocumentSession session, Guid streamId, CancellationToken token)
    {
        var store = session.DocumentStore;
        if (session.Connection is { State: System.Data.ConnectionState.Open } open)
            return await Head(open, store, streamId, token);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(token);
        return await Head(connection, store, streamId, token);
    }

    static async Task<(string Hash, long Version)> Head(NpgsqlConnection connection, IDocumentStore store, Guid streamId, CancellationToken token)
    {
        await using var command = new NpgsqlCommand(
            $"select version, headers->>'{HashChain.HashHeader}' from {store.Options.Events.DatabaseSchemaName}.mt_events "
            + "where stream_id = $1 order by version desc limit 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = streamId });
        await using var reader = await command.ExecuteReaderAsync(token);
        if (!await reader.ReadAsync(token))
            return (HashChain.Genesis, 0);
        return (reader.IsDBNull(1) ? HashChain.Genesis : reader.GetString(1), reader.GetInt64(0));
    }
}
