using Marten;
using Npgsql;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// The ledger: every event of every stream, appended in the store's sequence order as it is found committed (an event
/// that commits late, with a lower sequence than one already ledgered, takes the next leaf: the ledger only grows), and
/// the signed checkpoints over it.
/// </summary>
public static class AuditLedger
{
    /// <summary>
    /// How far below the ledger's head a late commit is still looked for: an event committed this many sequence numbers
    /// after a later one was ledgered is not (no transaction of the orchestrator stays open that long).
    /// </summary>
    public const long LateCommitWindow = 100_000;

    /// <summary>
    /// Appends every committed event not yet in the ledger, computes the root and signs it, in one transaction that
    /// holds the ledger's lock (checkpointers on several nodes take turns). Stores the checkpoint and returns it. Only
    /// the entries since the last checkpoint are hashed: the tree's frontier is stored with each checkpoint.
    /// </summary>
    public static async Task<Checkpoint> TakeCheckpoint(IDocumentStore store, SigningKey key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await LedgerSchema.Ensure(store, connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ledger = LedgerSchema.Ledger(store);
        await using (var append = new NpgsqlCommand($"""
            lock table {ledger} in exclusive mode;
            with head as (select coalesce(max(seq_id), 0) as seq, coalesce(max(leaf), -1) as leaf from {ledger})
            insert into {ledger} (leaf, seq_id, stream_id, version, hash)
            select head.leaf + row_number() over (order by e.seq_id), e.seq_id, e.stream_id, e.version, coalesce(e.headers->>'{HashChain.HashHeader}', '')
            from {EventRows.Table(store)} e, head
            where e.seq_id > head.seq
               or (e.seq_id > head.seq - {LateCommitWindow} and not exists (select 1 from {ledger} l where l.seq_id = e.seq_id))
            order by e.seq_id
            """, connection, transaction))
            await append.ExecuteNonQueryAsync(cancellationToken);

        var range = new CompactRange();
        await using (var last = new NpgsqlCommand(
            $"select tree_size, frontier from {LedgerSchema.Checkpoints(store)} order by tree_size desc limit 1", connection, transaction))
        await using (var reader = await last.ExecuteReaderAsync(cancellationToken))
            if (await reader.ReadAsync(cancellationToken))
                range = CompactRange.From(reader.GetInt64(0), System.Text.Json.JsonSerializer.Deserialize<List<string>>(reader.GetString(1))!);
        foreach (var entry in await Entries(connection, store, cancellationToken, transaction, fromLeaf: range.Size))
            range.Append(entry.LeafHash());
        var checkpoint = Checkpoint.Sign(key, Origin(store), range.Size, range.Root(), now);
        await using (var insert = new NpgsqlCommand(
            $"insert into {LedgerSchema.Checkpoints(store)} (tree_size, root_hash, signed_at, key_id, checkpoint, frontier) values ($1, $2, $3, $4, $5, $6) "
            + "on conflict (tree_size) do nothing", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.TreeSize });
            insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.RootHash });
            insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.SignedAt });
            insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.KeyId });
            insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.ToFileJson() });
            insert.Parameters.Add(new NpgsqlParameter { Value = System.Text.Json.JsonSerializer.Serialize(range.Frontier()) });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
                checkpoint = (await StoredCheckpoints(connection, store, cancellationToken, transaction)).Single(c => c.TreeSize == checkpoint.TreeSize);
        }
        await transaction.CommitAsync(cancellationToken);
        return checkpoint;
    }

    /// <summary>Names the store a checkpoint is of: its schema.</summary>
    public static string Origin(IDocumentStore store) => $"orchestrator/{store.Options.DatabaseSchemaName}";

    public static async Task<List<LedgerEntry>> Entries(NpgsqlConnection connection, IDocumentStore store, CancellationToken cancellationToken,
        NpgsqlTransaction? transaction = null, long fromLeaf = 0)
    {
        await using var command = new NpgsqlCommand(
            $"select leaf, seq_id, stream_id, version, hash from {LedgerSchema.Ledger(store)} where leaf >= $1 order by leaf", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = fromLeaf });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
            entries.Add(new LedgerEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetGuid(2), reader.GetInt64(3), reader.GetString(4)));
        return entries;
    }

    public static async Task<List<Checkpoint>> StoredCheckpoints(NpgsqlConnection connection, IDocumentStore store, CancellationToken cancellationToken,
        NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand($"select checkpoint from {LedgerSchema.Checkpoints(store)} order by tree_size", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var checkpoints = new List<Checkpoint>();
        while (await reader.ReadAsync(cancellationToken))
            checkpoints.Add(Checkpoint.Parse(reader.GetString(0)));
        return checkpoints;
    }

    public static async Task<Checkpoint?> Latest(IDocumentStore store, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        if (!await LedgerSchema.Exists(connection, store, cancellationToken))
            return null;
        return (await StoredCheckpoints(connection, store, cancellationToken)).LastOrDefault();
    }
}
