using JasperFx;
using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.ReadModels.Tests;

/// <summary>The one-pass verification of every stream finds what the per-stream one finds.</summary>
[Trait("Category", "Integration")]
public sealed class When_every_history_is_verified_at_once : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    readonly TestSchema _schema = TestSchema.Create("verifyall");
    DocumentStore _store = null!;

    public ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options =>
        {
            options.Connection(TestServices.Postgres);
            options.DatabaseSchemaName = _schema.Name;
            options.AutoCreateSchemaObjects = AutoCreate.All;
            options.ConfigureReadModels();
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _store.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    async Task<Guid> WriteHistory(int rounds)
    {
        var id = Guid.NewGuid();
        await using (var session = _store.LightweightSession())
        {
            session.Events.StartStream(id, new MigrationRequested(id, "vm-all", "a", "b", HypervisorKinds.Sim, MigrationStrategies.PreCopy,
                new MigrationPolicy(), "auditor-test", T0), new MigrationAdmitted(id, 1, T0));
            await session.SaveChangesAsync();
        }
        for (var round = 1; round <= rounds; round++)
        {
            await using var session = _store.LightweightSession();
            session.Events.Append(id, new PreCopyRoundCompleted(id, round, 4096, 512, 10, 100, 5.12, T0.AddSeconds(round)));
            await session.SaveChangesAsync();
        }
        return id;
    }

    [Fact]
    public async Task Should_give_every_stream_its_verdict_and_pinpoint_the_altered_one()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++)
            ids.Add(await WriteHistory(rounds: i));
        var altered = ids[4];
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                $"update {_schema.Name}.mt_events set data = jsonb_set(data, '{{BytesRemaining}}', '0') where stream_id = @id and version = 4", connection);
            command.Parameters.AddWithValue("id", altered);
            (await command.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        var verdicts = await ChainVerifier.VerifyAll(_store);

        verdicts.Select(v => v.StreamId).ShouldBe(ids.Order());
        verdicts.Sum(v => v.Events).ShouldBe(ids.Count * 2 + Enumerable.Range(0, 6).Sum());
        var broken = verdicts.Single(v => !v.Intact);
        broken.StreamId.ShouldBe(altered);
        broken.FirstBrokenVersion.ShouldBe(4);
        broken.ShouldBe(await ChainVerifier.Verify(_store, altered));
    }

    [Fact]
    public async Task Should_judge_a_stream_whose_rows_are_out_of_order_as_the_per_stream_verification_does()
    {
        var swapped = await WriteHistory(rounds: 4);
        var truncatedInside = await WriteHistory(rounds: 4);
        var intact = await WriteHistory(rounds: 3);
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            // Versions 3 and 4 trade places (the sequence order no longer follows the versions); version 3 of another
            // stream is deleted.
            await using var command = new NpgsqlCommand(
                $"update {_schema.Name}.mt_events set version = -1 where stream_id = @swapped and version = 3; "
                + $"update {_schema.Name}.mt_events set version = 3 where stream_id = @swapped and version = 4; "
                + $"update {_schema.Name}.mt_events set version = 4 where stream_id = @swapped and version = -1; "
                + $"delete from {_schema.Name}.mt_events where stream_id = @deleted and version = 3", connection);
            command.Parameters.AddWithValue("swapped", swapped);
            command.Parameters.AddWithValue("deleted", truncatedInside);
            await command.ExecuteNonQueryAsync();
        }

        var verdicts = (await ChainVerifier.VerifyAll(_store)).ToDictionary(v => v.StreamId);

        verdicts.Count.ShouldBe(3);
        verdicts[intact].Intact.ShouldBeTrue();
        verdicts[swapped].Intact.ShouldBeFalse();
        verdicts[swapped].FirstBrokenVersion.ShouldBe(3);
        verdicts[swapped].ShouldBe(await ChainVerifier.Verify(_store, swapped));
        verdicts[truncatedInside].Intact.ShouldBeFalse();
        verdicts[truncatedInside].ShouldBe(await ChainVerifier.Verify(_store, truncatedInside));
    }
}
