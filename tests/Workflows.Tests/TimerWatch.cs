using System.Collections.Concurrent;
using Marten;
using Marten.Services;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Timers;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Watches every saga commit that moves a migration into another state and reads, right after it, the timers the
/// database holds for that migration: a state that waits for a worker must have exactly one step timer, the one whose
/// token the saga holds (and, in pre-copy only, its completion timer); a state that waits for no worker has none.
/// </summary>
public sealed class TimerWatch : DocumentSessionListenerBase
{
    /// <summary>The states that wait for a worker's answer, each bounded by a step timer.</summary>
    public static readonly IReadOnlySet<string> Waiting = new HashSet<string>
    {
        MigrationStates.Checking, MigrationStates.Preparing, MigrationStates.PreCopying, MigrationStates.SwitchingOver,
        MigrationStates.PostCopying, MigrationStates.CleaningUp, MigrationStates.RollingBack, MigrationStates.DestroyingTarget,
        MigrationStates.Reconciling,
    };

    readonly ConcurrentDictionary<Guid, string> _states = new();
    readonly ConcurrentDictionary<Guid, ConcurrentQueue<string>> _violations = new();
    readonly ConcurrentDictionary<Guid, ConcurrentQueue<string>> _entered = new();

    /// <summary>The states <paramref name="migrationId"/> was seen entering, in order.</summary>
    public IReadOnlyList<string> Entered(Guid migrationId) => _entered.TryGetValue(migrationId, out var found) ? [.. found] : [];

    /// <summary>Each transition after which the migration's timers were not the ones its new state needs.</summary>
    public IReadOnlyList<string> Violations(Guid migrationId) => _violations.TryGetValue(migrationId, out var found) ? [.. found] : [];

    public override async Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        foreach (var saga in commit.Inserted.Concat(commit.Updated).OfType<MigrationState>())
        {
            var previous = _states.GetValueOrDefault(saga.CorrelationId);
            _states[saga.CorrelationId] = saga.CurrentState;
            if (previous == saga.CurrentState)
                continue;
            _entered.GetOrAdd(saga.CorrelationId, _ => new ConcurrentQueue<string>()).Enqueue(saga.CurrentState);

            // Read at once. A timer this commit armed may still be gone by then on a loaded machine: due (the shortest
            // timeout is 300 ms here) and delivered by the dispatcher, which deletes it. It was armed, which is what is
            // checked, so it counts; a timer this commit did not arm never does.
            await using var query = session.DocumentStore.QuerySession();
            var read = await query.Query<MigrationTimer>().Where(t => t.MigrationId == saga.CorrelationId).ToListAsync(token);
            var now = DateTimeOffset.UtcNow;
            var delivered = commit.Inserted.Concat(commit.Updated).OfType<MigrationTimer>()
                .Where(t => t.MigrationId == saga.CorrelationId && t.DueAt <= now && read.All(r => r.Id != t.Id));
            var timers = read.Concat(delivered).ToList();
            var step = timers.Where(t => t.Kind == TimerKinds.Step).ToList();
            var completion = timers.Where(t => t.Kind == TimerKinds.Completion).ToList();
            var fault = Waiting.Contains(saga.CurrentState)
                ? step.Count != 1 ? $"{step.Count} step timers"
                : step[0].Token != saga.StepTimeoutToken ? "a step timer the saga no longer holds"
                : completion.Count > 0 && saga.CurrentState != MigrationStates.PreCopying ? "a completion timer outside pre-copy"
                : completion.Count > 0 && completion[0].Token != saga.CompletionTimeoutToken ? "a completion timer the saga no longer holds"
                : null
                : timers.Count > 0 ? $"{timers.Count} timers while waiting for no worker" : null;
            if (fault is not null)
            {
                _violations.GetOrAdd(saga.CorrelationId, _ => new ConcurrentQueue<string>())
                    .Enqueue($"{previous ?? "new"} -> {saga.CurrentState}: {fault}");
            }
        }
    }
}
