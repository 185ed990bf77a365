using Marten;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Attention;

/// <summary>The attention queue: failed migrations (VM lost, rollback failed, other), and running ones that went quiet.</summary>
public static class AttentionQueries
{
    /// <summary>How long a running migration may go without an event before it counts as stuck, unless configured.</summary>
    public static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromMinutes(10);

    public static async Task<IReadOnlyList<AttentionEntry>> Attention(this IQuerySession session, DateTimeOffset now, TimeSpan stuckAfter,
        CancellationToken cancellationToken = default)
    {
        var cutoff = now - stuckAfter;
        var items = await session.Query<MigrationAttention>()
            .Where(a => a.Kind != null || a.LastEventAt < cutoff)
            .OrderBy(a => a.LastEventAt)
            .ToListAsync(cancellationToken);
        return items.Select(a => a.Kind is null
            ? Entry(a, AttentionKinds.Stuck,
                $"No event for {Describe(now - a.LastEventAt)} while {a.State} (last: {a.LastEventType}); the threshold is {Describe(stuckAfter)}.")
            : Entry(a, a.Kind, a.Reason ?? "Failed.")).ToList();
    }

    static AttentionEntry Entry(MigrationAttention a, string kind, string reason) => new(
        a.Id, a.VmId, kind, reason, a.Kind is null ? a.State : MigrationStates.Failed, a.FailedIn, a.Hypervisor, a.SourceHost,
        a.TargetHost, a.VmRunningOn, a.LastEventAt, a.LastEventType);

    static string Describe(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h"
        : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0} s";
}
