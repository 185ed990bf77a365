using System.Threading.Channels;
using JasperFx.Events;
using Marten;
using Orchestrator.Contracts;
using Weasel.Core;

namespace Orchestrator.ReadModels.Migrations;

/// <summary>
/// Every <see cref="MigrationSummary"/> rebuilt from the events alone in one ordered read of the events table (by stream,
/// then version), each stream folded by the projection's own aggregator, the documents written in bulk (COPY) in
/// batches. The same documents as Marten's daemon rebuild of <see cref="MigrationSummaryProjection"/>, at several times
/// its speed: the daemon reads, slices and writes range by range. Run it with no serve writing to the schema: a
/// summary written meanwhile may be overwritten by its rebuilt self, which lacks the new events.
/// </summary>
public static class SummaryRebuild
{
    const int Batch = 2000;

    /// <summary>Deletes every summary, then writes the rebuilt ones; returns how many were written.</summary>
    public static async Task<int> Run(DocumentStore store, CancellationToken cancellationToken = default)
    {
        var aggregator = store.Options.Projections.AggregatorFor<MigrationSummary>();
        await store.Advanced.Clean.DeleteDocumentsByTypeAsync(typeof(MigrationSummary), cancellationToken);

        await using var session = store.QuerySession();
        var events = session.Events.QueryAllRawEvents().OrderBy(e => e.StreamId).ThenBy(e => e.Version).ToAsyncEnumerable(cancellationToken);
        var built = new List<MigrationSummary>(Batch);
        var stream = new List<IEvent>();
        var written = 0;

        async Task Fold()
        {
            // Only a migration's stream starts with its request (or its rejection); drains and others have no summary.
            if (stream.Count > 0 && stream[0].Data is MigrationRequested or MigrationRejected
                && await aggregator.BuildAsync(stream, session, null, cancellationToken) is { } summary)
                built.Add(summary);
            stream = [];
            if (built.Count >= Batch)
                await Flush();
        }

        // The batches are written on a connection of their own while the events are read and folded.
        var batches = Channel.CreateBounded<List<MigrationSummary>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
                {
                    await store.BulkInsertAsync(batch, BulkInsertMode.InsertsOnly, Batch, cancellationToken);
                    written += batch.Count;
                }
            }
            catch (Exception e)
            {
                // The reading side stops at its next batch instead of waiting on a full channel.
                batches.Writer.TryComplete(e);
                throw;
            }
        }, cancellationToken);

        async Task Flush()
        {
            if (built.Count == 0)
                return;
            await batches.Writer.WriteAsync(built, cancellationToken);
            built = new List<MigrationSummary>(Batch);
        }

        try
        {
            await foreach (var e in events)
            {
                if (stream.Count > 0 && stream[0].StreamId != e.StreamId)
                    await Fold();
                stream.Add(e);
            }
            await Fold();
            await Flush();
        }
        catch (ChannelClosedException)
        {
            // The writer failed: its exception is the one to throw.
            await writer;
            throw;
        }
        finally
        {
            batches.Writer.TryComplete();
        }
        await writer;
        return written;
    }
}
