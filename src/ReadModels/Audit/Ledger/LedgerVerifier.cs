using Marten;
using Npgsql;
using Org.BouncyCastle.Crypto.Parameters;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// Checks that the store still holds every event the ledger recorded, as recorded, and that the ledger still extends
/// every checkpoint: the stored ones and any an auditor kept. What a chain cannot see (a truncated tail, a deleted
/// stream, a stream re-chained with recomputed hashes) is seen here once a checkpoint or a later ledger entry covers it.
/// </summary>
public static class LedgerVerifier
{
    /// <param name="kept">Checkpoints the auditor kept (files of <c>audit checkpoint</c>), checked beside the stored ones.</param>
    /// <param name="key">The signer's public key: every checkpoint must verify with it; without it, roots are checked but not who signed.</param>
    public static async Task<LedgerVerdict> Verify(IDocumentStore store, IReadOnlyList<Checkpoint> kept, Ed25519PublicKeyParameters? key,
        CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        // A store with no ledger yet (older than it, or never checkpointed) has only what kept checkpoints claim.
        var ledgered = await LedgerSchema.Exists(connection, store, cancellationToken);
        var entries = ledgered ? await AuditLedger.Entries(connection, store, cancellationToken) : [];
        var checkpoints = (ledgered ? await AuditLedger.StoredCheckpoints(connection, store, cancellationToken) : []).Concat(kept).ToList();
        var events = await Events(connection, store, cancellationToken);
        return Verify(entries, events, checkpoints, key);
    }

    public static LedgerVerdict Verify(IReadOnlyList<LedgerEntry> entries, IReadOnlyDictionary<long, LedgerEntry> events,
        IReadOnlyList<Checkpoint> checkpoints, Ed25519PublicKeyParameters? key)
    {
        var latest = checkpoints.Count == 0 ? (long?)null : checkpoints.Max(c => c.TreeSize);
        LedgerVerdict Broken(string problem, LedgerEntry? e = null) =>
            new(false, entries.Count, checkpoints.Count, latest, problem, e?.StreamId, e?.Version, e?.Sequence);

        foreach (var checkpoint in checkpoints)
            if (key is not null && !checkpoint.IsSignedBy(key))
                return Broken($"the checkpoint of {checkpoint.TreeSize} events signed at {checkpoint.SignedAt:O} is not signed by the given key "
                    + $"(it names key {checkpoint.KeyId}, the given one is {SigningKey.IdOf(key)}): refused");

        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Leaf != i)
                return Broken($"ledger entry {i} is missing: deleted from the ledger");
            if (!events.TryGetValue(entry.Sequence, out var stored))
                return Broken($"stream {entry.StreamId} event {entry.Version} (sequence {entry.Sequence}) is in the ledger but no longer in the store: deleted", entry);
            if (stored != entry with { Leaf = stored.Leaf })
                return Broken($"stream {entry.StreamId} event {entry.Version} (sequence {entry.Sequence}) is not the event the ledger recorded: rewritten or re-chained", entry);
        }

        // An event far below the ledger's head that was never ledgered was not a late commit: it was inserted afterwards.
        var head = entries.Count == 0 ? 0 : entries.Max(e => e.Sequence);
        var ledgered = entries.Select(e => e.Sequence).ToHashSet();
        if (events.Values.Where(e => e.Sequence <= head - AuditLedger.LateCommitWindow && !ledgered.Contains(e.Sequence))
                .MinBy(e => e.Sequence) is { } inserted)
            return Broken($"stream {inserted.StreamId} event {inserted.Version} (sequence {inserted.Sequence}) is far older than the ledger's head "
                + $"(sequence {head}) but was never ledgered: inserted afterwards", inserted);

        var leaves = entries.Select(e => e.LeafHash()).ToList();
        foreach (var checkpoint in checkpoints.OrderBy(c => c.TreeSize))
        {
            if (checkpoint.TreeSize > leaves.Count)
                return Broken($"the checkpoint of {checkpoint.TreeSize} events signed at {checkpoint.SignedAt:O} covers more than the ledger holds ({leaves.Count}): "
                    + "events and their ledger entries were deleted (a truncated tail or a deleted stream)");
            if (Convert.ToHexStringLower(MerkleTree.Root(leaves[..(int)checkpoint.TreeSize])) != checkpoint.RootHash)
                return Broken($"the ledger no longer extends the checkpoint of {checkpoint.TreeSize} events signed at {checkpoint.SignedAt:O}: "
                    + "an event it covers was deleted, rewritten or re-chained, and its ledger entry with it");
        }
        return new LedgerVerdict(true, entries.Count, checkpoints.Count, latest, null);
    }

    /// <summary>Every stored event as a ledger entry would record it, by sequence.</summary>
    static async Task<Dictionary<long, LedgerEntry>> Events(NpgsqlConnection connection, IDocumentStore store, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"select seq_id, stream_id, version, coalesce(headers->>'{HashChain.HashHeader}', '') from {EventRows.Table(store)}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new Dictionary<long, LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
            events[reader.GetInt64(0)] = new LedgerEntry(-1, reader.GetInt64(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetString(3));
        return events;
    }
}
