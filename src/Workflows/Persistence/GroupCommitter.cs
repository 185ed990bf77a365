using System.Diagnostics;
using Marten;
using Microsoft.Extensions.Options;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// Group commit: the writes of saga transitions of different migrations that are ready at the same moment go into one
/// PostgreSQL transaction, one Marten unit of work (one batch of statements, one chain-head read, one commit).
/// </summary>
/// <remarks>
/// <para>
/// A transition hands over a delegate that stages its writes (the saga's new state under its expected version, its
/// events with their metadata, its timers, outgoing messages and inbox record) and waits for the commit that holds them;
/// its input is acknowledged only after that. While <see cref="GroupCommitOptions.Committers"/> commits are under way, the
/// transitions that arrive wait and go together into the next one; a lone transition commits at once, so an idle system
/// waits for nobody.
/// </para>
/// <para>
/// A group that fails for a reason of its data (a concurrency conflict, a duplicate input, a value the database refuses)
/// is committed again member by member, so the failure is its member's alone and the others commit. A group that fails
/// because the database is away fails every member: each input is then retried as any transient fault is.
/// </para>
/// <para>
/// Order: a migration's inputs are applied one at a time (the saga endpoint's partitioner), and each waits for its
/// commit before the next is applied, so a group never holds two transitions of one migration from this process; two
/// processes racing on one migration are kept apart by the saga document's optimistic concurrency, as without groups.
/// </para>
/// </remarks>
public sealed class GroupCommitter(IDocumentStore store, IOptions<GroupCommitOptions> options)
{
    /// <summary>
    /// Set to a number N, this process kills itself (SIGKILL) in the middle of the first group commit of at least N
    /// transitions: committed, and none of their inputs acknowledged nor their messages sent (a kill before the commit
    /// leaves what a kill in any one transition leaves). For the crash test only; unset, nothing happens.
    /// </summary>
    public const string KillInGroupCommitVariable = "ORCHESTRATOR_FAULT_KILL_IN_GROUP_COMMIT";

    readonly int _killInGroupsOf = int.TryParse(Environment.GetEnvironmentVariable(KillInGroupCommitVariable), out var members) && members > 0
        ? members : int.MaxValue;
    readonly object _gate = new();
    readonly Queue<Member> _waiting = new();
    int _committing;

    public bool Enabled => options.Value.Enabled;

    /// <summary>Commits what <paramref name="stage"/> stages on a session, with whatever other transitions are ready.</summary>
    public async Task Commit(Action<IDocumentSession> stage)
    {
        var member = new Member(stage);
        bool lead;
        lock (_gate)
        {
            _waiting.Enqueue(member);
            lead = _committing < Math.Max(1, options.Value.Committers);
            if (lead)
                _committing++;
        }
        // The transition that finds a committer free commits itself and whoever waits, on its own flow: no hop to
        // another thread, which a busy thread pool can hold up for seconds.
        if (lead)
            await Lead(member);
        await member.Done.Task;
    }

    /// <summary>
    /// Commits groups until nobody waits; once <paramref name="own"/> is committed and others still wait, hands them to
    /// a leader of their own, so this input is not held up by theirs.
    /// </summary>
    async Task Lead(Member? own)
    {
        while (true)
        {
            var group = new List<Member>();
            lock (_gate)
            {
                while (group.Count < Math.Max(1, options.Value.MaxMembers) && _waiting.TryDequeue(out var next))
                    group.Add(next);
                if (group.Count == 0)
                {
                    _committing--;
                    return;
                }
            }
            await CommitGroup(group);
            if (own is { Done.Task.IsCompleted: true })
            {
                lock (_gate)
                {
                    if (_waiting.Count == 0)
                    {
                        _committing--;
                        return;
                    }
                }
                // The committer's place goes to the new leader.
                _ = Task.Run(() => Lead(null));
                return;
            }
        }
    }

    async Task CommitGroup(List<Member> group)
    {
        var startedAt = TransitionMetrics.Start();
        try
        {
            await Save(group);
            TransitionMetrics.RecordGroup(group.Count, startedAt);
            foreach (var member in group)
                member.Done.TrySetResult();
            return;
        }
        catch (Exception failure) when (group.Count == 1 || TransientFaults.IsTransient(failure))
        {
            foreach (var member in group)
                member.Done.TrySetException(failure);
            return;
        }
        catch (Exception)
        {
            // Whose data it was is not known: each member on its own.
        }
        foreach (var member in group)
        {
            try
            {
                startedAt = TransitionMetrics.Start();
                await Save([member]);
                TransitionMetrics.RecordGroup(1, startedAt);
                member.Done.TrySetResult();
            }
            catch (Exception failure)
            {
                member.Done.TrySetException(failure);
            }
        }
    }

    /// <summary>One transaction on a session of its own: the chain-head read, the members' writes (one unit of work), the commit.</summary>
    async Task Save(IReadOnlyList<Member> group)
    {
        // Not cancelled by any one input: the commit is every member's.
        await using var session = store.LightweightSession();
        try
        {
            await session.BeginTransactionAsync(CancellationToken.None);
            foreach (var member in group)
                member.Stage(session);
            await session.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception exception) when (RefusedTransactions.IsRefusedByTheDatabase(exception))
        {
            RefusedTransactions.DiscardConnections(store);
            throw;
        }
        if (group.Count >= _killInGroupsOf)
            KillThisProcess(group.Count);
    }

    /// <summary>
    /// Fault injection for the crash test (<see cref="KillInGroupCommitVariable"/>): the process dies with a group
    /// committed and none of its inputs acknowledged nor any of its messages sent.
    /// </summary>
    static void KillThisProcess(int members)
    {
        Console.Error.WriteLine($"{KillInGroupCommitVariable}: killed with a group commit of {members} transitions written and not committed");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
    }

    sealed class Member(Action<IDocumentSession> stage)
    {
        public Action<IDocumentSession> Stage { get; } = stage;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
