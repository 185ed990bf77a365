using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Outbox;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// A transaction PostgreSQL refused for its data must not break the ones after it. Under load, the connection a refused
/// batch ran on was seen to fail the next transaction on it (Npgsql's auto-prepared statements out of step: "Received
/// unexpected backend message DataRow"), which set an unrelated message aside; the saga and the poison filter replace the
/// pool's connections after a refusal. Here: what counts as a refusal, and that the store works on after its
/// connections are replaced, with the store's own connection settings and a pool of one connection.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_database_refuses_a_transaction : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("refused");
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        var postgres = new NpgsqlConnectionStringBuilder(TestServices.Postgres) { MaxPoolSize = 1 }.ConnectionString;
        _store = DocumentStore.For(options => Roles.Configure(options, new OrchestratorSettings(postgres, TestServices.RabbitMq, _schema.Name)));
        await _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _store.Dispose();
        await _schema.DisposeAsync();
    }

    async Task Append(Guid stream, string reason)
    {
        // Shaped like a transition: an event appended, a document updated, another inserted, in one batch.
        await using var session = _store.LightweightSession();
        await session.BeginTransactionAsync(CancellationToken.None);
        _ = await session.LoadAsync<DeadLetter>(stream);
        session.Events.Append(stream, new CommandRefused(stream, "cancel", reason, DateTimeOffset.UtcNow));
        session.Store(new DeadLetter { Id = stream, MigrationId = stream, Reason = reason.Replace("\0", "") });
        session.Insert(new DeadLetter { Id = Guid.NewGuid(), MigrationId = stream, Reason = "inserted" });
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task Should_run_the_next_transaction_once_its_connections_are_replaced()
    {
        var good = Guid.NewGuid();
        // Often enough for Npgsql to prepare the append on this connection.
        for (var i = 0; i < 4; i++)
            await Append(good, $"fine {i}");

        var refusal = await Should.ThrowAsync<Exception>(() => Append(Guid.NewGuid(), "broken\0report"));
        RefusedTransactions.IsRefusedByTheDatabase(refusal).ShouldBeTrue();
        RefusedTransactions.DiscardConnections(_store);

        for (var i = 0; i < 4; i++)
            await Append(good, $"after {i}");
        await using var query = _store.QuerySession();
        (await query.Events.FetchStreamAsync(good)).Count.ShouldBe(8);
    }

    [Fact]
    public void Should_not_take_a_conflict_between_deliveries_for_a_refusal()
    {
        RefusedTransactions.IsRefusedByTheDatabase(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation))
            .ShouldBeFalse();
        RefusedTransactions.IsRefusedByTheDatabase(new PostgresException("unsupported Unicode escape sequence", "ERROR", "ERROR",
            PostgresErrorCodes.UntranslatableCharacter)).ShouldBeTrue();
        RefusedTransactions.IsRefusedByTheDatabase(new InvalidOperationException("not the database")).ShouldBeFalse();
    }
}
