using Marten;
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

    static AttentionEntry Entry(MigrationAttention a, string kind, string reason) => new(
        a.Id, a.VmId, kind, reason, a.Kind is null ? a.State : MigrationStates.Failed, a.FailedIn, a.Hypervisor, a.SourceHost,
        a.TargetHost, a.VmRunningOn, a.LastEventAt, a.LastEventType);

    static string Describe(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h"
        : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0} s";
}
