using Marten;
using Npgsql;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Attention;

/// <summary>The attention queue: failed migrations (VM lost, rollback failed, other), and running ones that went quiet.</summary>
public static class AttentionQueries
{
    /// <summary>How long a running migration may go without an event before it counts as stuck, unless configured.</summary>
    public static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromMinutes(10);

    /// <summary>How long a dead letter keeps its migration on the queue, unless configured.</summary>
    public static readonly TimeSpan DefaultDeadLettersFor = TimeSpan.FromDays(1);

    public static async Task<IReadOnlyList<AttentionEntry>> Attention(this IQuerySession session, DateTimeOffset now, TimeSpan stuckAfter,
        CancellationToken cancellationToken = default) =>
        await session.Attention(now, stuckAfter, DefaultDeadLettersFor, cancellationToken);

    /// <param name="deadLettersFor">How long after a message of a migration was set aside the migration stays on the queue for it.</param>
    public static async Task<IReadOnlyList<AttentionEntry>> Attention(this IQuerySession session, DateTimeOffset now, TimeSpan stuckAfter,
        TimeSpan deadLettersFor, CancellationToken cancellationToken = default)
    {
        var cutoff = now - stuckAfter;
        var recent = now - deadLettersFor;
        var items = await session.Query<MigrationAttention>()
            .Where(a => a.Kind != null || (!a.Ended && a.LastEventAt < cutoff) || a.DeadLetterAt > recent)
            .OrderBy(a => a.LastEventAt)
            .ToListAsync(cancellationToken);
        return items.Select(a => a.Kind is not null ? Entry(a, a.Kind, a.Reason ?? "Failed.")
            : a.DeadLetterAt > recent ? Entry(a, AttentionKinds.DeadLetter, a.Ended
                ? $"{a.DeadLetterReason} The migration ended {a.State}: {a.Reason ?? "see its history"}."
                : $"{a.DeadLetterReason}")
            : Entry(a, AttentionKinds.Stuck,
                $"No event for {Describe(now - a.LastEventAt)} while {a.State} (last: {a.LastEventType}); the threshold is {Describe(stuckAfter)}.")).ToList();
    }

    /// <summary>
    /// How many migrations <see cref="Attention(IQuerySession, DateTimeOffset, TimeSpan, TimeSpan, CancellationToken)"/>
    /// would list, by kind, counted where they are: the gauges read this every few seconds, and a queue of thousands
    /// (a fleet whose first passes outlast the stuck threshold) is not worth loading to count.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> AttentionCounts(this IDocumentStore store, DateTimeOffset now, TimeSpan stuckAfter,
        TimeSpan deadLettersFor, CancellationToken cancellationToken = default)
    {
        var mapping = store.Options.FindOrResolveDocumentType(typeof(MigrationAttention));
        var field = (string name) => mapping.Casing == Weasel.Core.Casing.CamelCase ? char.ToLowerInvariant(name[0]) + name[1..] : name;
        var (kind, ended, lastEventAt, deadLetterAt) = (field(nameof(MigrationAttention.Kind)), field(nameof(MigrationAttention.Ended)),
            field(nameof(MigrationAttention.LastEventAt)), field(nameof(MigrationAttention.DeadLetterAt)));
        // The same three cases, in the same order, as the queue's own classification.
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            select case when data->>'{kind}' is not null then data->>'{kind}'
                        when (data->>'{deadLetterAt}')::timestamptz > $2 then '{AttentionKinds.DeadLetter}'
                        else '{AttentionKinds.Stuck}' end, count(*)
            from {mapping.TableName.QualifiedName}
            where data->>'{kind}' is not null
               or (not (data->>'{ended}')::boolean and (data->>'{lastEventAt}')::timestamptz < $1)
               or (data->>'{deadLetterAt}')::timestamptz > $2
            group by 1
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = now - stuckAfter });
        command.Parameters.Add(new NpgsqlParameter { Value = now - deadLettersFor });
        var counts = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    static AttentionEntry Entry(MigrationAttention a, string kind, string reason) => new(
        a.Id, a.VmId, kind, reason, a.Kind is null ? a.State : MigrationStates.Failed, a.FailedIn, a.Hypervisor, a.SourceHost,
        a.TargetHost, a.VmRunningOn, a.LastEventAt, a.LastEventType);

    static string Describe(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h"
        : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0} s";
}
