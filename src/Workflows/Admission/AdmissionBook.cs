using Marten;
using Npgsql;

namespace Orchestrator.Workflows.Admission;

/// <summary>
/// Admission decisions on the <see cref="AdmissionSlot"/> documents. Every decision first takes a PostgreSQL advisory
/// lock for the schema that lasts until the session's transaction ends, so two orchestrator instances deciding at once
/// see each other's slots (the second waits for the first to commit) and cannot both take the last one.
/// </summary>
public static class AdmissionBook
{
    /// <summary>Begins the session's transaction and waits for the admission lock inside it.</summary>
    public static async Task Lock(IDocumentSession session, CancellationToken cancellationToken)
    {
        await session.BeginTransactionAsync(cancellationToken);
        // The two-key form: its lock space is apart from the one-key locks (the projection daemon's).
        await using var command = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext($1), hashtext('admission'))", session.Connection);
        command.Parameters.Add(new NpgsqlParameter { Value = session.DocumentStore.Options.DatabaseSchemaName });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Why <paramref name="slot"/> cannot start now, or null when it can; call under <see cref="Lock"/>.</summary>
    public static async Task<string?> Blocker(IDocumentSession session, AdmissionSlot slot, AdmissionOptions limits, CancellationToken cancellationToken)
    {
        var active = session.Query<AdmissionSlot>().Where(s => s.Active && s.Id != slot.Id);
        var outbound = await active.CountAsync(s => s.SourceHost == slot.SourceHost, cancellationToken);
        var inbound = await active.CountAsync(s => s.TargetHost == slot.TargetHost, cancellationToken);
        var cluster = await active.CountAsync(cancellationToken);
        return Blocker(slot, outbound, inbound, cluster, limits);
    }

    /// <summary>1-based place of a queued migration in admission order: priority first, then age.</summary>
    public static async Task<int> PositionOf(IDocumentSession session, AdmissionSlot slot, CancellationToken cancellationToken) =>
        await session.Query<AdmissionSlot>().CountAsync(s => !s.Active && s.Id != slot.Id
            && (s.Priority > slot.Priority || (s.Priority == slot.Priority && s.RequestedAt <= slot.RequestedAt)), cancellationToken) + 1;

    /// <summary>
    /// Frees <paramref name="migrationId"/>'s slot or queue place, then gives a slot to every queued migration that now
    /// fits, in admission order; call under <see cref="Lock"/>. Returns the migrations admitted.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> Release(IDocumentSession session, Guid migrationId, AdmissionOptions limits,
        CancellationToken cancellationToken)
    {
        session.Delete<AdmissionSlot>(migrationId);
        var queue = await session.Query<AdmissionSlot>().Where(s => !s.Active && s.Id != migrationId)
            .OrderByDescending(s => s.Priority).ThenBy(s => s.RequestedAt).ToListAsync(cancellationToken);
        if (queue.Count == 0)
            return [];

        var active = new List<AdmissionSlot>(await session.Query<AdmissionSlot>().Where(s => s.Active && s.Id != migrationId).ToListAsync(cancellationToken));
        var admitted = new List<Guid>();
        foreach (var next in queue)
        {
            var outbound = active.Count(a => a.SourceHost == next.SourceHost);
            var inbound = active.Count(a => a.TargetHost == next.TargetHost);
            if (Blocker(next, outbound, inbound, active.Count, limits) is not null)
                continue;
            next.Active = true;
            session.Update(next);
            active.Add(next);
            admitted.Add(next.Id);
        }
        return admitted;
    }

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
