using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Admission;

/// <summary>
/// Admission decisions on the <see cref="AdmissionSlot"/> documents. Every decision first takes a PostgreSQL advisory
/// lock for the schema that lasts until the session's transaction ends, so two orchestrator instances deciding at once
/// see each other's slots (the second waits for the first to commit) and cannot both take the last one. A release that
/// decides nothing (no queue, no links to share out again) takes the lock shared: such releases run side by side, and
/// only wait for, or hold up, a decision.
/// </summary>
public static class AdmissionBook
{
    /// <summary>Begins the session's transaction and waits for the admission lock inside it (exclusive, or <paramref name="shared"/>).</summary>
    public static async Task Lock(IDocumentSession session, CancellationToken cancellationToken, bool shared = false)
    {
        await Workflows.Persistence.SessionTransactions.Begin(session, cancellationToken);
        // The two-key form: its lock space is apart from the one-key locks (the projection daemon's).
        await using var command = new NpgsqlCommand(
            $"select pg_advisory_xact_lock{(shared ? "_shared" : "")}(hashtext($1), hashtext('admission'))", session.Connection);
        command.Parameters.Add(new NpgsqlParameter { Value = session.DocumentStore.Options.DatabaseSchemaName });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A new migration's slot, taken when the limits allow it now in one statement batch: one round trip to PostgreSQL
    /// and one implicit transaction of its own (the lock, the counts and the insert; the lock ends with it). The lock is
    /// not held through the rest of the migration's first transition and its commit, nor across this process's own
    /// scheduling between statements: with thousands of migrations starting at once, either made them start one at a
    /// time, and their waits took the saga's slots from every other migration's reports. True when the migration holds a
    /// slot: just taken, or taken by an earlier delivery of the same start whose transition did not commit (the decision
    /// made then stands). False when it must queue: nothing was written, and the caller queues it in its own transaction
    /// (<see cref="Lock"/>, <see cref="Blocker(IDocumentSession, AdmissionSlot, AdmissionOptions, CancellationToken)"/>,
    /// as before), so a queued slot never exists before its migration does and no release can admit a migration not yet stored.
    /// </summary>
    /// <remarks>
    /// The slot is written as the <see cref="AdmissionSlot"/> document Marten would write (its JSON from the store's
    /// serializer, its <c>active</c> column); the counts are <see cref="Blocker(AdmissionSlot, int, int, int, AdmissionOptions)"/>'s,
    /// on the same indexes. A slot taken here whose migration's first transition then fails for good is freed with the
    /// migration's rejection (<see cref="Outbox.StartGivenUp"/>).
    /// </remarks>
    public static async Task<bool> AdmitAlone(IDocumentStore store, AdmissionSlot slot, AdmissionOptions limits, CancellationToken cancellationToken)
    {
        var database = store.Storage.Database;
        await database.EnsureStorageExistsAsync(typeof(AdmissionSlot), cancellationToken);
        var schema = store.Options.DatabaseSchemaName;
        var table = $"{schema}.mt_doc_admissionslot";
        var taken = new AdmissionSlot
        {
            Id = slot.Id, SourceHost = slot.SourceHost, TargetHost = slot.TargetHost, Priority = slot.Priority, RequestedAt = slot.RequestedAt,
            Deadline = slot.Deadline, Active = true,
        };
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        // No transaction begun: the batch runs in one implicit transaction, which ends (and lets the lock go) as it does.
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select pg_advisory_xact_lock(hashtext($1), hashtext('admission'))")
        {
            Parameters = { new NpgsqlParameter { Value = schema } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            insert into {table} (id, data, mt_version, mt_dotnet_type, mt_last_modified, active)
            select $1, $2::jsonb, gen_random_uuid(), $3, transaction_timestamp(), true
            where not exists (select 1 from {table} where id = $1)
              and (select count(*) from {table} where active and id <> $1 and data ->> 'SourceHost' = $4) < $6
              and (select count(*) from {table} where active and id <> $1 and data ->> 'TargetHost' = $5) < $7
              and (select count(*) from {table} where active and id <> $1) < $8
            """)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = slot.Id },
                new NpgsqlParameter { Value = store.Options.Serializer().ToJson(taken) },
                new NpgsqlParameter { Value = SlotDotNetType },
                new NpgsqlParameter { Value = slot.SourceHost },
                new NpgsqlParameter { Value = slot.TargetHost },
                new NpgsqlParameter { Value = (long)limits.MaxOutboundPerHost },
                new NpgsqlParameter { Value = (long)limits.MaxInboundPerHost },
                new NpgsqlParameter { Value = (long)limits.MaxPerCluster },
            },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"select coalesce((select active from {table} where id = $1), false) as slot_active")
        {
            Parameters = { new NpgsqlParameter { Value = slot.Id } },
        });
        var active = false;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            // The lock's row, then the slot's, whatever statements the reader counts as results.
            do
            {
                while (await reader.ReadAsync(cancellationToken))
                    if (reader.FieldCount == 1 && reader.GetName(0) == "slot_active")
                        active = reader.GetBoolean(0);
            }
            while (await reader.NextResultAsync(cancellationToken));
        }
        if (active)
            slot.Active = true;
        return active;
    }

    /// <summary>What Marten writes in an admission slot's <c>mt_dotnet_type</c> column.</summary>
    static readonly string SlotDotNetType = typeof(AdmissionSlot).FullName!;

    /// <summary>Why <paramref name="slot"/> cannot start now, or null when it can; call under <see cref="Lock"/>.</summary>
    public static async Task<string?> Blocker(IDocumentSession session, AdmissionSlot slot, AdmissionOptions limits, CancellationToken cancellationToken)
    {
        var active = session.Query<AdmissionSlot>().Where(s => s.Active && s.Id != slot.Id);
        var outbound = await active.CountAsync(s => s.SourceHost == slot.SourceHost, cancellationToken);
        var inbound = await active.CountAsync(s => s.TargetHost == slot.TargetHost, cancellationToken);
        var cluster = await active.CountAsync(cancellationToken);
        return Blocker(slot, outbound, inbound, cluster, limits);
    }

    /// <summary>1-based place of a queued migration in admission order (<see cref="InOrder"/>).</summary>
    public static async Task<int> PositionOf(IDocumentSession session, AdmissionSlot slot, CancellationToken cancellationToken)
    {
        var queued = await session.Query<AdmissionSlot>().Where(s => !s.Active && s.Id != slot.Id).ToListAsync(cancellationToken);
        return InOrder([.. queued, slot]).ToList().IndexOf(slot) + 1;
    }

    /// <summary>Admission order: higher priority first, then the earlier deadline (none: after every deadline), then age.</summary>
    public static IEnumerable<AdmissionSlot> InOrder(IEnumerable<AdmissionSlot> slots) =>
        slots.OrderByDescending(s => s.Priority).ThenBy(s => s.Deadline ?? DateTimeOffset.MaxValue).ThenBy(s => s.RequestedAt).ThenBy(s => s.Id);

    /// <summary>
    /// Frees <paramref name="migrationId"/>'s slot or queue place (and its links' bandwidth), then gives a slot to every
    /// queued migration that now fits, in admission order; takes the lock itself. Returns the migrations admitted.
    /// </summary>
    /// <remarks>
    /// With nothing queued and no links scheduled there is nothing to decide: the lock is taken shared, so releases do
    /// not wait for each other. A decision (exclusive) that queued a migration before it was granted has committed by
    /// then, and the queue is looked at again: when it is no longer empty, <see cref="AdmissionQueueChangedException"/>
    /// sends the transition round again, and then it takes the lock exclusively and admits what fits. A decision made
    /// after it waits for its commit and counts without the released slot.
    /// </remarks>
    public static async Task<AdmissionChanges> Release(IDocumentSession session, Guid migrationId, AdmissionOptions limits,
        HostLinkOptions links, CancellationToken cancellationToken)
    {
        session.Delete<AdmissionSlot>(migrationId);
        if (!links.Schedule && !await AnyQueued(session, migrationId, cancellationToken))
        {
            await Lock(session, cancellationToken, shared: true);
            if (await AnyQueued(session, migrationId, cancellationToken))
                throw new AdmissionQueueChangedException(migrationId);
            return AdmissionChanges.None;
        }
        await Lock(session, cancellationToken);
        return await AdmitWaiting(session, migrationId, limits, links, cancellationToken);
    }

    static Task<bool> AnyQueued(IDocumentSession session, Guid except, CancellationToken cancellationToken) =>
        session.Query<AdmissionSlot>().AnyAsync(s => !s.Active && s.Id != except, cancellationToken);

    /// <summary>
    /// Gives a slot to every queued migration but <paramref name="except"/> that now fits, in admission order (priority,
    /// then deadline, then age); call under <see cref="Lock"/>. One waiting for bandwidth must fit on its links too, and holds them from
    /// then on; a later one does not overtake it on a link it waits for. Then the links' shares are worked out again
    /// (<see cref="Reshare"/>). Returns the migrations admitted and the shares that changed.
    /// </summary>
    public static async Task<AdmissionChanges> AdmitWaiting(IDocumentSession session, Guid except, AdmissionOptions limits,
        HostLinkOptions links, CancellationToken cancellationToken)
    {
        var queue = InOrder(await session.Query<AdmissionSlot>().Where(s => !s.Active && s.Id != except).ToListAsync(cancellationToken)).ToList();
        if (queue.Count == 0 && !links.Schedule)
            return AdmissionChanges.None;

        var active = new List<AdmissionSlot>(await session.Query<AdmissionSlot>().Where(s => s.Active && s.Id != except).ToListAsync(cancellationToken));
        var admitted = new List<Guid>();
        var heldBack = new HashSet<string>(StringComparer.Ordinal);
        foreach (var next in queue)
        {
            var outbound = active.Count(a => a.SourceHost == next.SourceHost);
            var inbound = active.Count(a => a.TargetHost == next.TargetHost);
            if (Blocker(next, outbound, inbound, active.Count, limits) is not null)
                continue;
            if (links.Schedule && next.WaitsForLink)
            {
                var crossed = links.LinksOf(next.SourceHost, next.TargetHost);
                if (heldBack.Overlaps(crossed.Select(l => l.Key)) || LinkBlocker(next, crossed, active) is not null)
                {
                    heldBack.UnionWith(crossed.Select(l => l.Key));
                    continue;
                }
                TakeLinks(next, crossed);
            }
            next.Active = true;
            session.Update(next);
            active.Add(next);
            admitted.Add(next.Id);
        }
        return new AdmissionChanges(admitted, links.Schedule ? Reshare(session, [.. active.Where(a => a.HoldsLink)], links) : []);
    }

    /// <summary>
    /// With the links scheduled, once the forecast says what <paramref name="slot"/> needs: takes that bandwidth on every
    /// link it crosses, or says why it cannot (then it is queued again: see <see cref="Requeue"/>); call under <see cref="Lock"/>.
    /// </summary>
    public static async Task<(string? Problem, IReadOnlyList<LinkShare> Shares)> TakeLinks(IDocumentSession session, AdmissionSlot slot,
        HostLinkOptions links, CancellationToken cancellationToken)
    {
        var holders = await session.Query<AdmissionSlot>().Where(s => s.HoldsLink && s.Id != slot.Id).ToListAsync(cancellationToken);
        var crossed = links.LinksOf(slot.SourceHost, slot.TargetHost);
        if (LinkBlocker(slot, crossed, holders) is { } problem)
            return (problem, []);
        TakeLinks(slot, crossed);
        session.Update(slot);
        return (null, Reshare(session, [.. holders, slot], links));
    }

    /// <summary>
    /// Every link holder's share worked out again (<see cref="LinkShares.Of"/>) after one started or ended; the ones that
    /// changed by a MiB/s or more are updated and returned, for their transfers to be told.
    /// </summary>
    static IReadOnlyList<LinkShare> Reshare(IDocumentSession session, IReadOnlyList<AdmissionSlot> holders, HostLinkOptions links)
    {
        var changed = new List<LinkShare>();
        foreach (var (holder, share) in LinkShares.Of(holders, links))
        {
            if (Math.Abs(share - holder.GrantedBytesPerSecond) < MiB)
                continue;
            holder.GrantedBytesPerSecond = share;
            session.Update(holder);
            changed.Add(new LinkShare(holder.Id, (int)Math.Max(1, Math.Floor(share / MiB))));
        }
        return changed;
    }

    /// <summary>
    /// Puts an admitted migration back in the queue to wait for bandwidth, which frees its slot: the queued migrations
    /// that now fit are admitted (returned); call under <see cref="Lock"/>.
    /// </summary>
    public static async Task<AdmissionChanges> Requeue(IDocumentSession session, AdmissionSlot slot, AdmissionOptions limits,
        HostLinkOptions links, CancellationToken cancellationToken)
    {
        slot.Active = false;
        slot.WaitsForLink = true;
        slot.HoldsLink = false;
        session.Update(slot);
        return await AdmitWaiting(session, slot.Id, limits, links, cancellationToken);
    }

    /// <summary>Why a link cannot carry <paramref name="slot"/> beside the migrations holding it, or null. The first on a link always fits (it gets all of it).</summary>
    static string? LinkBlocker(AdmissionSlot slot, IReadOnlyList<LinkUse> crossed, IReadOnlyList<AdmissionSlot> others)
    {
        foreach (var link in crossed)
        {
            var on = OnLink(link, others);
            if (on.Count == 0)
                continue;
            var committed = on.Sum(h => Math.Min(h.NeededBytesPerSecond, link.BytesPerSecond));
            var need = Math.Min(slot.NeededBytesPerSecond, link.BytesPerSecond);
            if (committed + need > link.BytesPerSecond)
                return $"the {link.Name}, {link.BytesPerSecond / MiB:0} MiB/s, is committed to {on.Count} running migration(s) that need "
                    + $"{committed / MiB:0} MiB/s; this one needs {need / MiB:0} MiB/s (its forecast, with headroom)";
        }
        return null;
    }

    /// <summary>Holds the links it crosses; its share is worked out with the others' (<see cref="Reshare"/>).</summary>
    static void TakeLinks(AdmissionSlot slot, IReadOnlyList<LinkUse> crossed)
    {
        slot.HoldsLink = true;
        slot.WaitsForLink = false;
        slot.LinkKeys = [.. crossed.Select(l => l.Key)];
        slot.GrantedBytesPerSecond = 0;
    }

    /// <summary>The link holders that cross <paramref name="link"/> in its direction.</summary>
    static List<AdmissionSlot> OnLink(LinkUse link, IEnumerable<AdmissionSlot> others) =>
        [.. others.Where(o => o.HoldsLink && o.LinkKeys.Contains(link.Key))];

    const double MiB = 1024 * 1024;

    static string? Blocker(AdmissionSlot slot, int outbound, int inbound, int cluster, AdmissionOptions limits)
    {
        if (outbound >= limits.MaxOutboundPerHost)
            return $"source {slot.SourceHost} already runs {outbound} outbound migration(s) (limit {limits.MaxOutboundPerHost})";
        if (inbound >= limits.MaxInboundPerHost)
            return $"target {slot.TargetHost} already receives {inbound} migration(s) (limit {limits.MaxInboundPerHost})";
        if (cluster >= limits.MaxPerCluster)
            return $"the cluster already runs {cluster} migration(s) (limit {limits.MaxPerCluster})";
        return null;
    }
}

/// <summary>What an admission decision changed: the migrations admitted, and the link shares that moved.</summary>
public sealed record AdmissionChanges(IReadOnlyList<Guid> Admitted, IReadOnlyList<LinkShare> Shares)
{
    public static readonly AdmissionChanges None = new([], []);

    /// <summary>Through <paramref name="saga"/>'s outbox, with its transition: each migration admitted, each share that moved (but its own).</summary>
    public void Tell(MigrationState saga)
    {
        foreach (var admitted in Admitted)
            saga.SendTo(QueueNames.MigrationSaga, new AdmitMigration(admitted), correlateWith: admitted);
        foreach (var share in Shares.Where(s => s.MigrationId != saga.CorrelationId))
            saga.SendTo(QueueNames.MigrationSaga, new ShareLink(share.MigrationId, share.MaxBandwidthMiBps), correlateWith: share.MigrationId);
    }
}

/// <summary>A migration's new share of its links, for its transfer's max-bandwidth.</summary>
public sealed record LinkShare(Guid MigrationId, int MaxBandwidthMiBps);

/// <summary>
/// A migration was queued while a release looked at an empty queue: the release runs again, and admits it if it fits.
/// The saga's retry policy handles it.
/// </summary>
public sealed class AdmissionQueueChangedException(Guid migrationId)
    : Exception($"A migration was queued while migration {migrationId} released its slot: its release runs again to admit what fits.");
