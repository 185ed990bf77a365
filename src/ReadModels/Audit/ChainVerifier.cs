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
            events.Add(EventRows.Read(reader));
        return Verify(streamId, [.. events.Where(e => !IsTombstone(e))]);
    }

    /// <summary>
    /// Every stream (migrations, drains, any other), in one pass over the events table (ordered by stream and version):
    /// the rows are read on one thread while the hashes are re-computed on the others. One verdict per stream, in
    /// stream id order.
    /// </summary>
    public static async Task<IReadOnlyList<ChainVerdict>> VerifyAll(IDocumentStore store, CancellationToken cancellationToken = default)
    {
        var streams = Channel.CreateBounded<(Guid Id, List<StoredEvent> Events)>(new BoundedChannelOptions(1024) { SingleWriter = true });
        var verdicts = new ConcurrentBag<ChainVerdict>();
        var verifiers = Enumerable.Range(0, Math.Max(1, Environment.ProcessorCount)).Select(_ => Task.Run(async () =>
        {
            await foreach (var (id, events) in streams.Reader.ReadAllAsync(cancellationToken))
            {
                var history = events.Where(e => !IsTombstone(e)).ToList();
                if (history.Count > 0)
                    verdicts.Add(Verify(id, history));
            }
        }, cancellationToken)).ToArray();

        try
        {
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                $"select {EventRows.Columns} from {EventRows.Table(store)} e order by e.stream_id, e.version", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            Guid? current = null;
            var events = new List<StoredEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = EventRows.Read(reader);
                if (e.StreamId != current)
                {
                    if (current is { } done)
                        await streams.Writer.WriteAsync((done, events), cancellationToken);
                    current = e.StreamId;
                    events = [];
                }
                events.Add(e);
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

    /// <summary>
    /// Marten's placeholder for a sequence number whose transaction rolled back (type <c>tombstone</c>, in a stream of
    /// its own, written past the listener, so with no hash): no history, so no chain. An event of a history turned into
    /// one still breaks its stream's chain (a version missing) or the ledger (its recorded hash).
    /// </summary>
    public static bool IsTombstone(StoredEvent e) => e.Type == "tombstone" && e.Chain.Hash is null;

    public static ChainVerdict Verify(Guid streamId, IReadOnlyList<StoredEvent> events)
    {
        var previous = HashChain.Genesis;
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
            previous = e.Header(HashChain.HashHeader)!;
        }
        return ChainVerdict.Clean(streamId, events.Count);

        ChainVerdict Broken(long version, string problem) => new(streamId, events.Count, false, version, problem);
    }

    /// <summary>Why one event does not fit the chain after <paramref name="previous"/>, or null when it does.</summary>
    static string? Problem(StoredEvent e, string previous, ref int hashVersion)
    {
        var hash = e.Header(HashChain.HashHeader);
        if (hash is null)
            return $"event {e.Version} carries no hash: written outside the orchestrator, or its headers were removed";
        if (e.Header(HashChain.PreviousHashHeader) != previous)
            return $"event {e.Version} does not chain to event {e.Version - 1}: an event before it was inserted, deleted or reordered";
        var version = e.Header(HashChain.VersionHeader) switch
        {
            null => 1,
            "2" => 2,
            _ => 0,
        };
        if (version == 0)
            return $"event {e.Version} names a hash version this verifier does not know: its headers were altered";
        if (version < hashVersion)
            return $"event {e.Version} claims hash version 1 after events of version 2: its headers were altered to hide a change";
        hashVersion = version;
        if (version == 1)
            return HashChain.Compute(previous, e.StreamId, e.Version, e.Type, e.DataJson) == hash
                ? null
                : $"event {e.Version} ({e.Type}) does not match its hash: its content was altered";
        try
        {
            if (HashChain.ComputeV2(previous, e) == hash)
                return null;
            if (e.IsArchived && HashChain.ComputeV2(previous, e with { IsArchived = false }) == hash)
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
