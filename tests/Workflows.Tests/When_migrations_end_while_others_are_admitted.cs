using Marten;
using Npgsql;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Admission's lock on real PostgreSQL: a release that has nothing to decide (no queue) takes it shared, so migrations
/// that end together do not wait for each other; one that finds a migration queued meanwhile is sent round again, and
/// then admits it. A migration queued must never be left waiting for a slot that was freed. A new migration's slot is taken
/// in a short transaction of its own, and never past a limit however many start at once.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_migrations_end_while_others_are_admitted : IAsyncLifetime
{
    static readonly AdmissionOptions OneAtATime = new() { MaxPerCluster = 1, MaxInboundPerHost = 10, MaxOutboundPerHost = 10 };
    static readonly HostLinkOptions NoLinks = new();
    readonly TestSchema _schema = TestSchema.Create("release");
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, _schema.Name)));
        await _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _store.Dispose();
        await _schema.DisposeAsync();
    }

    static AdmissionSlot Slot(bool active) => new()
    {
        Id = Guid.NewGuid(), SourceHost = $"src-{Guid.NewGuid():N}"[..12], TargetHost = $"dst-{Guid.NewGuid():N}"[..12], Active = active,
        RequestedAt = DateTimeOffset.UtcNow,
    };

    async Task Insert(params AdmissionSlot[] slots)
    {
        await using var session = _store.LightweightSession();
        foreach (var slot in slots)
            session.Insert(slot);
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task Should_let_releases_with_no_queue_hold_the_lock_together()
    {
        var (first, second) = (Slot(active: true), Slot(active: true));
        await Insert(first, second);

        await using var one = _store.LightweightSession();
        await using var two = _store.LightweightSession();
        (await AdmissionBook.Release(one, first.Id, OneAtATime, NoLinks, default)).Admitted.ShouldBeEmpty();
        // The first still holds its (shared) lock, uncommitted: the second gets it too, at once.
        var released = AdmissionBook.Release(two, second.Id, OneAtATime, NoLinks, default);
        (await released.WaitAsync(TimeSpan.FromSeconds(10))).Admitted.ShouldBeEmpty();
        await one.SaveChangesAsync();
        await two.SaveChangesAsync();
        await using var read = _store.QuerySession();
        (await read.Query<AdmissionSlot>().CountAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Should_admit_a_migration_queued_while_a_release_looked_at_an_empty_queue()
    {
        var ending = Slot(active: true);
        await Insert(ending);

        // A decision holds the lock: it queues a migration (the one slot is taken) and has not committed yet.
        await using var deciding = _store.LightweightSession();
        await AdmissionBook.Lock(deciding, default);
        var waiting = Slot(active: false);
        (await AdmissionBook.Blocker(deciding, waiting, OneAtATime, default)).ShouldNotBeNull();
        deciding.Insert(waiting);

        // The release sees no queue yet, and waits for the lock, shared.
        var releasing = _store.LightweightSession();
        var release = AdmissionBook.Release(releasing, ending.Id, OneAtATime, NoLinks, default);
        await Eventually.Get(WaitersForTheLock, waiters => waiters == 1, "the release to wait for admission's lock");
        await deciding.SaveChangesAsync();

        // Now it sees the queued migration: it is sent round again rather than leave it waiting.
        await Should.ThrowAsync<AdmissionQueueChangedException>(() => release);
        // As the saga's retry does: that transaction ends (rolled back, its shared lock let go), the next one decides.
        await releasing.DisposeAsync();
        await using var again = _store.LightweightSession();
        var admitted = await AdmissionBook.Release(again, ending.Id, OneAtATime, NoLinks, default);
        await again.SaveChangesAsync();

        admitted.Admitted.ShouldBe([waiting.Id]);
        await using var read = _store.QuerySession();
        (await read.LoadAsync<AdmissionSlot>(waiting.Id))!.Active.ShouldBeTrue();
        (await read.LoadAsync<AdmissionSlot>(ending.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_never_admit_more_than_the_limit_when_many_start_at_once()
    {
        var limits = new AdmissionOptions { MaxPerCluster = 5, MaxInboundPerHost = 100, MaxOutboundPerHost = 100 };
        var starting = Enumerable.Range(0, 24).Select(_ => Slot(active: false)).ToList();

        var decisions = await Task.WhenAll(starting.Select(slot => Task.Run(() => AdmissionBook.AdmitAlone(_store, slot, limits, default))));

        decisions.Count(admitted => admitted).ShouldBe(5);
        await using var read = _store.QuerySession();
        var stored = await read.Query<AdmissionSlot>().ToListAsync();
        // The admitted hold their slots, committed; the others wrote nothing: they queue with their migrations.
        stored.Select(s => s.Id).Order().ShouldBe(starting.Where((_, i) => decisions[i]).Select(s => s.Id).Order());
        stored.ShouldAllBe(s => s.Active);
    }

    [Fact]
    public async Task Should_let_a_start_delivered_again_keep_the_slot_its_first_attempt_took()
    {
        var first = Slot(active: false);
        (await AdmissionBook.AdmitAlone(_store, first, OneAtATime, default)).ShouldBeTrue();

        // Its transition did not commit (the process died): the start comes again, with the one slot already its own.
        var again = Slot(active: false);
        again.Id = first.Id;
        (await AdmissionBook.AdmitAlone(_store, again, OneAtATime, default)).ShouldBeTrue();
        (await AdmissionBook.AdmitAlone(_store, Slot(active: false), OneAtATime, default)).ShouldBeFalse();

        await using var read = _store.QuerySession();
        (await read.Query<AdmissionSlot>().CountAsync()).ShouldBe(1);
        // Written as Marten writes it: it loads, queries and counts as a slot like any other.
        var stored = (await read.LoadAsync<AdmissionSlot>(first.Id)).ShouldNotBeNull();
        (stored.SourceHost, stored.TargetHost, stored.RequestedAt, stored.Active).ShouldBe((first.SourceHost, first.TargetHost, first.RequestedAt, true));
        (await read.Query<AdmissionSlot>().CountAsync(s => s.Active && s.SourceHost == first.SourceHost)).ShouldBe(1);
        // The decision holds the lock only for its own transaction: the next decision can take it at once.
        await using var next = _store.LightweightSession();
        await AdmissionBook.Lock(next, default).WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Sessions waiting for this schema's admission lock (its two keys, as AdmissionBook.Lock takes it).</summary>
    async Task<int> WaitersForTheLock()
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from pg_locks where locktype = 'advisory' and not granted and objsubid = 2 "
            + "and classid::bigint = (hashtext($1)::bigint & 4294967295) and objid::bigint = (hashtext('admission')::bigint & 4294967295)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _store.Options.DatabaseSchemaName });
        return Convert.ToInt32(await command.ExecuteScalarAsync());
    }
}
