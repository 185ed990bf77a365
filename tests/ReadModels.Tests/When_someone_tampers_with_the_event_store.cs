using JasperFx;
using Marten;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using static Orchestrator.ReadModels.Tests.StateChanges;

namespace Orchestrator.ReadModels.Tests;

/// <summary>Invariant 5: history is the truth, and any change to it behind the orchestrator's back is found and pinpointed.</summary>
[Trait("Category", "Integration")]
public sealed class When_someone_tampers_with_the_event_store : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    readonly TestSchema _schema = TestSchema.Create("audit");
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

    /// <summary>A migration's history written as the saga writes it: several commits, one transition each.</summary>
    async Task<Guid> WriteHistory()
    {
        var id = Guid.NewGuid();
        object[][] commits =
        [
            [new MigrationRequested(id, "vm-audit", "a", "b", HypervisorKinds.Sim, MigrationStrategies.PreCopy, new MigrationPolicy(), "auditor-test", T0),
             new MigrationAdmitted(id, 1, T0), Moved(id, null, MigrationStates.Checking, T0)],
            [new PreflightPassed(id, 4096, 5, T0), Moved(id, MigrationStates.Checking, MigrationStates.Preparing, T0)],
            [new TargetPrepared(id, "b", 1, T0.AddSeconds(1)), Moved(id, MigrationStates.Preparing, MigrationStates.PreCopying, T0.AddSeconds(1))],
            [new PreCopyRoundCompleted(id, 1, 4096, 512, 10, 100, 5.12, T0.AddSeconds(2))],
            [new StopAndCopyCompleted(id, 5.12, 512, T0.AddSeconds(3)), Moved(id, MigrationStates.PreCopying, MigrationStates.SwitchingOver, T0.AddSeconds(3))],
            [new SwitchoverCompleted(id, "b", 4608, T0.AddSeconds(3)), Moved(id, MigrationStates.SwitchingOver, MigrationStates.CleaningUp, T0.AddSeconds(3))],
            [new SourceCleanedUp(id, "a", T0.AddSeconds(4)), new MigrationCompleted(id, "vm-audit", "b", 5.12, 4000, T0.AddSeconds(4)),
             Moved(id, MigrationStates.CleaningUp, MigrationStates.Completed, T0.AddSeconds(4))],
        ];
        foreach (var events in commits)
        {
            await using var session = _store.LightweightSession();
            session.Events.Append(id, events);
            await session.SaveChangesAsync();
        }
        return id;
    }

    Task<ChainVerdict> Verify(Guid id) => ChainVerifier.Verify(_store, id);

    async Task Sql(string sql, Guid id)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", _schema.Name), connection);
        command.Parameters.AddWithValue("id", id);
        (await command.ExecuteNonQueryAsync()).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Should_export_a_history_an_auditor_can_verify_from_the_export_alone()
    {
        var id = await WriteHistory();
        await WriteHistory();
        var output = new StringWriter();

        var count = await AuditExport.WriteNdjson(_store, output, id);

        count.ShouldBe(15);
        var previous = HashChain.Genesis;
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = System.Text.Json.JsonDocument.Parse(line).RootElement;
            e.GetProperty("streamId").GetGuid().ShouldBe(id);
            var headers = e.GetProperty("headers");
            headers.GetProperty(HashChain.PreviousHashHeader).GetString().ShouldBe(previous);
            headers.GetProperty(HashChain.VersionHeader).GetInt32().ShouldBe(2);
            var stored = new StoredEvent(e.GetProperty("sequence").GetInt64(), id, e.GetProperty("version").GetInt64(), e.GetProperty("type").GetString()!,
                DateTimeOffset.Parse(e.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                e.GetProperty("correlationId").GetString(), e.GetProperty("causationId").GetString(), e.GetProperty("isArchived").GetBoolean(),
                headers.GetRawText(), e.GetProperty("data").GetRawText());
            var recomputed = HashChain.ComputeV2(previous, stored);
            recomputed.ShouldBe(headers.GetProperty(HashChain.HashHeader).GetString());
            previous = recomputed;
        }
    }

    [Fact]
    public async Task Should_replay_a_migration_to_any_version()
    {
        var id = await WriteHistory();
        await using var session = _store.QuerySession();

        (await MigrationReplay.AsOf(session, id, version: 1))!.State.ShouldBe(MigrationStates.Requested);
        // The state comes with the state change that ends a transition, not with the event that caused it.
        (await MigrationReplay.AsOf(session, id, version: 2))!.State.ShouldBe(MigrationStates.Requested);
        (await MigrationReplay.AsOf(session, id, version: 3))!.State.ShouldBe(MigrationStates.Checking);
        var atSeven = await MigrationReplay.AsOf(session, id, version: 7);
        atSeven!.State.ShouldBe(MigrationStates.PreCopying);
        atSeven.LastEventVersion.ShouldBe(7);
        (await MigrationReplay.AsOf(session, id, version: 8))!.Rounds.ShouldBe(1);
        var now = await MigrationReplay.AsOf(session, id, at: DateTimeOffset.UtcNow.AddMinutes(1));
        System.Text.Json.JsonSerializer.Serialize(now).ShouldBe(System.Text.Json.JsonSerializer.Serialize(await session.Summary(id)));
    }

    [Fact]
    public async Task Should_verify_an_untouched_stream_clean()
    {
        var id = await WriteHistory();

        var verdict = await Verify(id);

        verdict.Intact.ShouldBeTrue(verdict.Problem);
        verdict.Events.ShouldBe(15);
    }

    [Fact]
    public async Task Should_pinpoint_an_event_whose_data_was_edited()
    {
        var id = await WriteHistory();
        await Sql("update {schema}.mt_events set data = jsonb_set(data, '{DowntimeMs}', '1.5') where stream_id = @id and version = 6", id);

        var verdict = await Verify(id);

        verdict.Intact.ShouldBeFalse();
        verdict.FirstBrokenVersion.ShouldBe(6);
        verdict.Problem.ShouldNotBeNull().ShouldContain("content was altered");
    }

    [Fact]
    public async Task Should_notice_a_member_added_to_an_event()
    {
        var id = await WriteHistory();
        await Sql("update {schema}.mt_events set data = data || '{\"Note\": \"harmless?\"}' where stream_id = @id and version = 3", id);

        var verdict = await Verify(id);

        verdict.FirstBrokenVersion.ShouldBe(3);
        verdict.Problem.ShouldNotBeNull().ShouldContain("content was altered");
    }

    [Fact]
    public async Task Should_pinpoint_a_deleted_event()
    {
        var id = await WriteHistory();
        await Sql("delete from {schema}.mt_events where stream_id = @id and version = 4", id);

        var verdict = await Verify(id);

        verdict.Intact.ShouldBeFalse();
        verdict.FirstBrokenVersion.ShouldBe(5);
        verdict.Problem.ShouldNotBeNull().ShouldContain("event 4 is missing");
    }

    [Fact]
    public async Task Should_pinpoint_two_events_swapped_in_order()
    {
        var id = await WriteHistory();
        await Sql("""
            update {schema}.mt_events set version = -3 where stream_id = @id and version = 3;
            update {schema}.mt_events set version = 3 where stream_id = @id and version = 4;
            update {schema}.mt_events set version = 4 where stream_id = @id and version = -3;
            """, id);

        var verdict = await Verify(id);

        verdict.Intact.ShouldBeFalse();
        verdict.FirstBrokenVersion.ShouldBe(3);
        verdict.Problem.ShouldNotBeNull().ShouldContain("does not chain");
    }
}
