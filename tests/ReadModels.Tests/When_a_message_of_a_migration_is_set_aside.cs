using Marten;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The attention queue shows a migration a message of which was set aside as a dead letter, even when the migration
/// ended well (a host may need a look), for a while: the dead letter's id, what it was, for which host, and why.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_message_of_a_migration_is_set_aside : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("deadattn");
    readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    DocumentStore _store = null!;

    public ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options =>
        {
            options.Connection(TestServices.Postgres);
            options.DatabaseSchemaName = _schema.Name;
            options.AutoCreateSchemaObjects = JasperFx.AutoCreate.All;
            options.ConfigureReadModels();
        });
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Should_keep_it_on_the_attention_queue_with_the_reason_after_it_rolled_back()
    {
        var id = Guid.NewGuid();
        var letter = Guid.NewGuid();
        var at = _now.AddMinutes(-5);
        await Append(id,
            new MigrationRequested(id, "vm-dead", "host-a", "host-p", HypervisorKinds.Sim, MigrationStrategies.PreCopy,
                new MigrationPolicy(MaxDowntimeMs: 300), "tests", at),
            new MigrationAdmitted(id, 1, at),
            Moved(id, null, MigrationStates.Checking, at),
            new MessageSetAside(id, letter, "outbox", "PrepareTarget", "host-p", "TimeoutException: not delivered", at.AddSeconds(20)),
            new MigrationRollingBack(id, "The command to prepare the destination could not be delivered to the target host host-p.", false, at.AddSeconds(20)),
            Moved(id, MigrationStates.Preparing, MigrationStates.RollingBack, at.AddSeconds(20)),
            new MigrationRolledBack(id, "The command to prepare the destination could not be delivered to the target host host-p.", "host-a", at.AddSeconds(40)),
            Moved(id, MigrationStates.DestroyingTarget, MigrationStates.RolledBack, at.AddSeconds(40)));
        var ended = Guid.NewGuid();
        await Append(ended,
            new MigrationRequested(ended, "vm-fine", "host-a", "host-b", HypervisorKinds.Sim, MigrationStrategies.PreCopy,
                new MigrationPolicy(MaxDowntimeMs: 300), "tests", at),
            new MigrationRolledBack(ended, "transfer failed", "host-a", at.AddSeconds(5)),
            Moved(ended, null, MigrationStates.RolledBack, at.AddSeconds(5)));
        await CatchUp();

        await using var session = _store.QuerySession();
        var entry = (await session.Attention(_now, TimeSpan.FromMinutes(1))).ShouldHaveSingleItem();
        entry.MigrationId.ShouldBe(id);
        entry.Kind.ShouldBe(AttentionKinds.DeadLetter);
        entry.State.ShouldBe(MigrationStates.RolledBack);
        entry.Reason.ShouldContain($"PrepareTarget for host-p was set aside as dead letter {letter}");
        entry.Reason.ShouldContain("TimeoutException: not delivered");
        entry.Reason.ShouldContain("ended RolledBack");
        (await _store.AttentionCounts(_now, TimeSpan.FromMinutes(1), AttentionQueries.DefaultDeadLettersFor))
            .ShouldBe(new Dictionary<string, long> { [AttentionKinds.DeadLetter] = 1 });
        // Past the window a dead letter no longer keeps an ended migration on the queue.
        (await session.Attention(_now, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1))).ShouldBeEmpty();
        (await _store.AttentionCounts(_now, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1))).ShouldBeEmpty();
    }

    [Fact]
    public async Task Should_show_a_start_that_could_not_be_stored()
    {
        var id = Guid.NewGuid();
        await Append(id,
            new MessageSetAside(id, id, "input", "StartMigration", null, "PostgresException: 54000: index row size exceeds maximum", _now.AddMinutes(-1)),
            new MigrationRejected(id, null, RejectionCodes.InvalidCommand, "The StartMigration could not be stored and was set aside.", _now.AddMinutes(-1)),
            Moved(id, null, MigrationStates.Rejected, _now.AddMinutes(-1)));
        await CatchUp();

        await using var session = _store.QuerySession();
        var entry = (await session.Attention(_now, TimeSpan.FromMinutes(10))).ShouldHaveSingleItem();
        entry.Kind.ShouldBe(AttentionKinds.DeadLetter);
        entry.State.ShouldBe(MigrationStates.Rejected);
        entry.Reason.ShouldContain("StartMigration was set aside");
    }

    async Task Append(Guid id, params object[] events)
    {
        await using var session = _store.LightweightSession();
        session.Events.StartStream(id, events);
        await session.SaveChangesAsync();
    }

    async Task CatchUp()
    {
        using var daemon = await _store.BuildProjectionDaemonAsync();
        await daemon.CatchUpAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _schema.DisposeAsync();
    }
}
