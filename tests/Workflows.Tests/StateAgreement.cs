using System.Collections.Concurrent;
using Marten;
using Marten.Services;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Watches every commit: the saga's state and the migration summary committed with it (inline projection, one
/// transaction) must name the same state after each transition, not only at the end. A commit that recorded no event
/// leaves the summary as the last commit left it.
/// </summary>
public sealed class StateAgreement : DocumentSessionListenerBase
{
    readonly ConcurrentDictionary<Guid, (string State, long Version)> _summaries = new();
    readonly ConcurrentDictionary<Guid, int> _transitions = new();
    readonly ConcurrentDictionary<Guid, ConcurrentQueue<string>> _disagreements = new();

    /// <summary>The saga commits seen for <paramref name="migrationId"/>.</summary>
    public int Transitions(Guid migrationId) => _transitions.GetValueOrDefault(migrationId);

    /// <summary>Each commit after which the saga and the summary named different states.</summary>
    public IReadOnlyList<string> Disagreements(Guid migrationId) =>
        _disagreements.TryGetValue(migrationId, out var found) ? [.. found] : [];

    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        var written = commit.Inserted.Concat(commit.Updated).ToList();
        // A migration's commits are serial (one partition per migration), so its entries are never written concurrently.
        foreach (var summary in written.OfType<MigrationSummary>())
            _summaries[summary.Id] = (summary.State, summary.LastEventVersion);
        foreach (var saga in written.OfType<MigrationState>())
        {
            _transitions.AddOrUpdate(saga.CorrelationId, 1, (_, count) => count + 1);
            if (!_summaries.TryGetValue(saga.CorrelationId, out var summary) || summary.State != saga.CurrentState)
            {
                _disagreements.GetOrAdd(saga.CorrelationId, _ => new ConcurrentQueue<string>())
                    .Enqueue($"saga {saga.CurrentState}, summary {summary.State ?? "none"} at version {summary.Version}");
            }
        }
        return Task.CompletedTask;
    }
}
