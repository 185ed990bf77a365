using System.Collections.Concurrent;
using System.Text;
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
    public static async Task<ChainVerdict> Verify(IDocumentStore store, Guid streamId, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"select {EventRows.Columns} from {EventRows.Table(store)} e where e.stream_id = $1 order by e.version", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = streamId });
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            events.Add(EventRows.ReadUtf8(reader));
        return Verify(streamId, [.. events.Where(e => !IsTombstone(e))]);
    }

    /// <summary>
    /// Every stream (migrations, drains, any other), in one pass over the events table in the store's sequence order,
    /// which is the table's own order, so PostgreSQL reads it like the raw table and sorts nothing. The rows are read on
    /// one thread and each stream's chain is carried forward on one of the others (a stream always on the same one).
    /// A stream whose versions do not come in order (rows swapped, inserted or deleted) is read again by itself in
    /// version order and judged by <see cref="Verify(Guid, IReadOnlyList{StoredEvent})"/>, so every verdict is the one
    /// the per-stream verification gives. One verdict per stream, in stream id order. A batch's headers and data are
    /// read into chunks of memory that go back to a pool once its lane has verified it, not into an array per row: the
    /// garbage collector's share of the pass (a third of its CPU with an array per row) falls with what is allocated.
    /// </summary>
    public static async Task<IReadOnlyList<ChainVerdict>> VerifyAll(IDocumentStore store, CancellationToken cancellationToken = default)
    {
        const int BatchSize = 256;
        var lanes = Math.Max(1, Environment.ProcessorCount);
        var channels = Enumerable.Range(0, lanes)
            .Select(_ => Channel.CreateBounded<Batch>(new BoundedChannelOptions(64) { SingleWriter = true, SingleReader = true }))
            .ToArray();
        var chunks = new ConcurrentQueue<byte[]>();
        var chains = Enumerable.Range(0, lanes).Select(_ => new Dictionary<Guid, RunningChain>()).ToArray();
        var verifiers = Enumerable.Range(0, lanes).Select(lane => Task.Run(async () =>
        {
            var streams = chains[lane];
            try
            {
                await foreach (var batch in channels[lane].Reader.ReadAllAsync(cancellationToken))
                {
                    foreach (var e in batch.Events)
                    {
                        if (IsTombstone(e))
                            continue;
                        if (!streams.TryGetValue(e.StreamId, out var chain))
                            streams[e.StreamId] = chain = new RunningChain();
                        chain.Add(e);
                    }
                    batch.Arena.Return();
                }
            }
            catch (Exception failed)
            {
                // The reader stops at this lane's next batch instead of waiting for room that never comes.
                channels[lane].Writer.TryComplete(failed);
                throw;
            }
        }, cancellationToken)).ToArray();

        // The rows are read synchronously on a thread of their own: no per-read timer or state machine, and the reader
        // never waits for a thread-pool thread the lanes keep busy.
        var reading = Task.Factory.StartNew(() =>
        {
            try
            {
                var batches = new Batch[lanes];
                for (var lane = 0; lane < lanes; lane++)
                    batches[lane] = new Batch(new List<StoredEvent>(BatchSize), new ByteArena(chunks));
                using var connection = store.Storage.Database.CreateConnection();
                connection.Open();
                using var command = new NpgsqlCommand($"select {EventRows.Columns} from {EventRows.Table(store)} e order by e.seq_id", connection);
                using var reader = command.ExecuteReader();
                var types = new EventRows.EventTypeNames();
                while (reader.Read())
                {
                    var lane = (int)((uint)reader.GetGuid(1).GetHashCode() % (uint)lanes);
                    var batch = batches[lane];
                    batch.Events.Add(EventRows.ReadUtf8(reader, batch.Arena, types));
                    if (batch.Events.Count == BatchSize)
                    {
                        channels[lane].Writer.WriteBlocking(batch, cancellationToken);
                        batches[lane] = new Batch(new List<StoredEvent>(BatchSize), new ByteArena(chunks));
                    }
                }
                for (var lane = 0; lane < lanes; lane++)
                    if (batches[lane].Events.Count > 0)
                        channels[lane].Writer.WriteBlocking(batches[lane], cancellationToken);
            }
            finally
            {
                foreach (var channel in channels)
                    channel.Writer.TryComplete();
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await reading;
        }
        finally
        {
            // A lane that failed must not leave the others waiting on rows.
            foreach (var channel in channels)
                channel.Writer.TryComplete();
        }
        await Task.WhenAll(verifiers);

        var verdicts = new List<ChainVerdict>();
        foreach (var (id, chain) in chains.SelectMany(lane => lane))
            verdicts.Add(chain.OutOfOrder ? await Verify(store, id, cancellationToken) : chain.Verdict(id));
        return [.. verdicts.OrderBy(v => v.StreamId)];
    }

    /// <summary>Rows for one lane, their headers and data in <see cref="Arena"/>.</summary>
    sealed record Batch(List<StoredEvent> Events, ByteArena Arena);

    /// <summary>
    /// One stream's chain carried forward event by event, as <see cref="Verify(Guid, IReadOnlyList{StoredEvent})"/>
    /// walks it, while its events come in version order; the first one that does not marks it for a read in version order.
    /// </summary>
    sealed class RunningChain
    {
        ReadOnlyMemory<byte> _previous = HashChain.GenesisUtf8;
        // The previous hash copied out of its row, whose bytes go back to the pool with its batch.
        byte[] _previousCopy = [];
        int _hashVersion = 1;
        int _events;
        (long Version, string Problem)? _broken;

        public bool OutOfOrder { get; private set; }

        public void Add(StoredEvent e)
        {
            _events++;
            // Checked past a break too: a row that belongs before it (a forged duplicate) moves the first break.
            if (e.Version != _events)
                OutOfOrder = true;
            if (OutOfOrder || _broken is not null)
                return;
            if (Problem(e, _previous, ref _hashVersion) is { } problem)
                _broken = (e.Version, problem);
            else
            {
                var hash = e.Utf8Chain.Hash!.Value.Span;
                if (_previousCopy.Length != hash.Length)
                    _previousCopy = new byte[hash.Length];
                hash.CopyTo(_previousCopy);
                _previous = _previousCopy;
            }
        }

        public ChainVerdict Verdict(Guid streamId) => _broken is { } broken
            ? new ChainVerdict(streamId, _events, false, broken.Version, broken.Problem)
            : ChainVerdict.Clean(streamId, _events);
    }

    /// <summary>
    /// Marten's placeholder for a sequence number whose transaction rolled back (type <c>tombstone</c>, in a stream of
    /// its own, written past the listener, so with no hash): no history, so no chain. An event of a history turned into
    /// one still breaks its stream's chain (a version missing) or the ledger (its recorded hash).
    /// </summary>
    public static bool IsTombstone(StoredEvent e) => e.Type == "tombstone" && e.Utf8Chain.Hash is null;

    public static ChainVerdict Verify(Guid streamId, IReadOnlyList<StoredEvent> events)
    {
        var previous = HashChain.GenesisUtf8;
        long expectedVersion = 0;
        var hashVersion = 1;
        foreach (var e in events)
        {
            expectedVersion++;
            if (e.Version != expectedVersion)
                return Broken(e.Version, e.Version > expectedVersion
                    ? $"event {expectedVersion} is missing: deleted, or the versions were changed"
                    : $"event {e.Version} appears where event {expectedVersion} should be: inserted or reordered");
            if (Problem(e, previous, ref hashVersion) is { } problem)
                return Broken(e.Version, problem);
            previous = e.Utf8Chain.Hash!.Value;
        }
        return ChainVerdict.Clean(streamId, events.Count);

        ChainVerdict Broken(long version, string problem) => new(streamId, events.Count, false, version, problem);
    }

    /// <summary>Why one event does not fit the chain after <paramref name="previous"/>, or null when it does.</summary>
    static string? Problem(StoredEvent e, ReadOnlyMemory<byte> previous, ref int hashVersion)
    {
        // The chain's headers as the row's own UTF-8: compared and hashed with no text made.
        var chain = e.Utf8Chain;
        if (chain.Hash is not { } hash)
            return $"event {e.Version} carries no hash: written outside the orchestrator, or its headers were removed";
        if (chain.Previous is not { } claimed || !claimed.Span.SequenceEqual(previous.Span))
            return $"event {e.Version} does not chain to event {e.Version - 1}: an event before it was inserted, deleted or reordered";
        var version = chain.Version switch
        {
            null => 1,
            { } v when v.Span.SequenceEqual("2"u8) => 2,
            _ => 0,
        };
        if (version == 0)
            return $"event {e.Version} names a hash version this verifier does not know: its headers were altered";
        if (version < hashVersion)
            return $"event {e.Version} claims hash version 1 after events of version 2: its headers were altered to hide a change";
        hashVersion = version;
        if (version == 1)
            return HashChain.Compute(Encoding.UTF8.GetString(previous.Span), e.StreamId, e.Version, e.Type, e.DataJson) == Encoding.UTF8.GetString(hash.Span)
                ? null
                : $"event {e.Version} ({e.Type}) does not match its hash: its content was altered";
        try
        {
            if (HashChain.MatchesV2(previous.Span, e, hash.Span))
                return null;
            if (e.IsArchived && HashChain.MatchesV2(previous.Span, e with { IsArchived = false }, hash.Span))
                return $"event {e.Version} ({e.Type}) was marked archived after it was written: hidden from replay and history";
            return $"event {e.Version} ({e.Type}) does not match its hash: its content was altered (data, type, time, principal, correlation, causation or archived flag)";
        }
        catch (InexactNumberException inexact)
        {
            return $"event {e.Version} ({e.Type}) holds the number {inexact.Text}, which its hash cannot cover: rewritten";
        }
        catch (JsonException)
        {
            return $"event {e.Version} ({e.Type}) holds data that is not JSON a hash can cover: rewritten";
        }
    }
}
