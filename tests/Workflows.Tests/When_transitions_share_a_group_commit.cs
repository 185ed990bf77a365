using JasperFx;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Group commit (<see cref="GroupCommitter"/>) on a real PostgreSQL: transitions that wait while a commit is under way
/// go together into the next transaction; a member whose writes conflict fails alone and the others commit; each
/// stream's hash chain stays whole. Which rows one transaction wrote is read from PostgreSQL's own <c>xmin</c>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_transitions_share_a_group_commit : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("group");
    DocumentStore _store = null!;
    GroupCommitter _committer = null!;

    public async ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, _schema.Name)));
        await _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        // One commit at a time, so that whoever arrives during it waits for the next.
        _committer = new GroupCommitter(_store, Options.Create(new GroupCommitOptions { Committers = 1 }));
    }

    public async ValueTask DisposeAsync()
    {
        _store.Dispose();
        await _schema.DisposeAsync();
    }

    static Action<IDocumentSession> Append(Guid stream, string reason) =>
        session => session.Events.Append(stream, new CommandRefused(stream, "cancel", reason, DateTimeOffset.UtcNow));

    /// <summary>A first commit held open until <paramref name="others"/> are all waiting; their tasks, in order.</summary>
    async Task<Task[]> BehindAHeldCommit(Guid first, params Action<IDocumentSession>[] others)
    {
        using var held = new SemaphoreSlim(0);
        var committing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // On a thread of its own: the first transition leads its commit on its own flow, and this one holds it.
        var firstDone = Task.Run(() => _committer.Commit(session =>
        {
            committing.TrySetResult();
            held.Wait(TimeSpan.FromSeconds(30));
            Append(first, "first")(session);
        }));
        await committing.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = others.Select(_committer.Commit).ToArray();
        held.Release();
        await firstDone;
        return waiting;
    }

    async Task<Dictionary<Guid, List<string>>> TransactionsOf(params Guid[] streams)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select stream_id, xmin::text from {_schema.Name}.mt_events where stream_id = any($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = streams });
        var byStream = streams.ToDictionary(s => s, _ => new List<string>());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            byStream[reader.GetGuid(0)].Add(reader.GetString(1));
        return byStream;
    }

    [Fact]
    public async Task Should_commit_the_transitions_that_waited_in_one_transaction_with_whole_chains()
    {
        var first = Guid.NewGuid();
        var others = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        // One of them already has history: its chain goes on from its head.
        await _committer.Commit(Append(others[0], "earlier"));

        await Task.WhenAll(await BehindAHeldCommit(first, [.. others.Select(s => Append(s, "grouped"))]));

        var transactions = await TransactionsOf([first, .. others]);
        transactions[first].Count.ShouldBe(1);
        var grouped = others.Select(s => transactions[s][^1]).Distinct().ToList();
        grouped.Count.ShouldBe(1, "the three waiting transitions commit in one transaction");
        grouped[0].ShouldNotBe(transactions[first][0]);
        transactions[others[0]].Count.ShouldBe(2);

        foreach (var stream in (Guid[])[first, .. others])
        {
            var verdict = await ChainVerifier.Verify(_store, stream);
            verdict.Intact.ShouldBeTrue($"{stream}: {verdict}");
        }
    }

    [Fact]
    public async Task Should_fail_only_the_members_whose_writes_conflict()
    {
        var (fine, stale, duplicate, alsoFine) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var saga = new MigrationState { CorrelationId = stale, CurrentState = "PreCopying" };
        await using (var session = _store.LightweightSession())
        {
            session.Insert(saga);
            session.Insert(new InboxRecord { Id = $"inbox-{duplicate}", ProcessedAt = DateTimeOffset.UtcNow });
            await session.SaveChangesAsync();
        }

        var tasks = await BehindAHeldCommit(Guid.NewGuid(),
            Append(fine, "fine"),
            // Another delivery moved this saga on since it was read.
            session =>
            {
                session.UpdateExpectedVersion(saga, Guid.NewGuid());
                Append(stale, "stale")(session);
            },
            // This input was applied already.
            session =>
            {
                Append(duplicate, "duplicate")(session);
                session.Insert(new InboxRecord { Id = $"inbox-{duplicate}", ProcessedAt = DateTimeOffset.UtcNow });
            },
            Append(alsoFine, "also fine"));

        await tasks[0];
        await Should.ThrowAsync<ConcurrencyException>(() => tasks[1]);
        await Should.ThrowAsync<DocumentAlreadyExistsException>(() => tasks[2]);
        await tasks[3];
        var transactions = await TransactionsOf(fine, stale, duplicate, alsoFine);
        transactions[fine].Count.ShouldBe(1);
        transactions[alsoFine].Count.ShouldBe(1);
        transactions[stale].ShouldBeEmpty("the conflicting member's events are not committed");
        transactions[duplicate].ShouldBeEmpty("the duplicate input's events are not committed");
    }
}
