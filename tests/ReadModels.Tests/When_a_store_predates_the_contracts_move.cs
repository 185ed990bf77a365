using System.Text.Json;
using System.Text.Json.Nodes;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The worker reports moved from <c>Orchestrator.Contracts</c> to <c>Orchestrator.Contracts.Workers</c>. A store
/// written before the move (Fixtures/store-before-contracts-move.json: the rows of a real <c>orchestrator demo</c> run,
/// whose <c>mt_dotnet_type</c> still names the old namespace) must still read, rebuild and verify: the stored event
/// type names are the contract, never the .NET namespace.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_store_predates_the_contracts_move : IAsyncLifetime
{
    static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures",
        "store-before-contracts-move.json")))!.AsObject();

    readonly TestSchema _schema = TestSchema.Create("premove");
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options =>
        {
            options.Connection(TestServices.Postgres);
            options.DatabaseSchemaName = _schema.Name;
            options.AutoCreateSchemaObjects = AutoCreate.All;
            options.ConfigureReadModels();
        });
        await _store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        foreach (var stream in Fixture["streams"]!.AsArray())
        {
            await using var insert = new NpgsqlCommand(
                $"insert into {_schema.Name}.mt_streams (id, version, timestamp, created) values ($1, $2, $3, $4)", connection);
            insert.Parameters.AddWithValue(Guid.Parse((string)stream!["id"]!));
            insert.Parameters.AddWithValue((long)stream["version"]!);
            insert.Parameters.AddWithValue(DateTimeOffset.Parse((string)stream["timestamp"]!));
            insert.Parameters.AddWithValue(DateTimeOffset.Parse((string)stream["created"]!));
            await insert.ExecuteNonQueryAsync();
        }
        foreach (var row in Fixture["events"]!.AsArray())
        {
            await using var insert = new NpgsqlCommand(
                $"insert into {_schema.Name}.mt_events (seq_id, id, stream_id, version, data, type, timestamp, mt_dotnet_type, "
                + "correlation_id, causation_id, headers) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", connection);
            insert.Parameters.AddWithValue((long)row!["seq_id"]!);
            insert.Parameters.AddWithValue(Guid.Parse((string)row["id"]!));
            insert.Parameters.AddWithValue(Guid.Parse((string)row["stream_id"]!));
            insert.Parameters.AddWithValue((long)row["version"]!);
            insert.Parameters.AddWithValue(NpgsqlDbType.Jsonb, row["data"]!.ToJsonString());
            insert.Parameters.AddWithValue((string)row["type"]!);
            insert.Parameters.AddWithValue(DateTimeOffset.Parse((string)row["timestamp"]!));
            insert.Parameters.AddWithValue((string)row["mt_dotnet_type"]!);
            insert.Parameters.AddWithValue((object?)(string?)row["correlation_id"] ?? DBNull.Value);
            insert.Parameters.AddWithValue((object?)(string?)row["causation_id"] ?? DBNull.Value);
            insert.Parameters.AddWithValue(NpgsqlDbType.Jsonb, row["headers"]!.ToJsonString());
            await insert.ExecuteNonQueryAsync();
        }
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

    [Fact]
    public void Should_hold_a_store_whose_worker_reports_carry_the_old_namespace()
    {
        var oldNames = Fixture["events"]!.AsArray().Select(e => (string)e!["mt_dotnet_type"]!).Distinct().ToList();
        oldNames.ShouldContain("Orchestrator.Contracts.TargetPrepared, Orchestrator.Contracts");
        oldNames.ShouldContain("Orchestrator.Contracts.MigrationStepFailed, Orchestrator.Contracts");
        oldNames.ShouldContain("Orchestrator.Contracts.TargetDestroyed, Orchestrator.Contracts");
    }

    [Fact]
    public async Task Should_read_every_stored_event_as_the_type_it_names()
    {
        await using var session = _store.QuerySession();
        foreach (var stream in Fixture["streams"]!.AsArray())
        {
            var events = await session.Events.FetchStreamAsync(Guid.Parse((string)stream!["id"]!));
            events.Count.ShouldBe((int)(long)stream["version"]!);
            foreach (var e in events)
            {
                e.Data.ShouldBeAssignableTo<IMigrationEvent>($"{e.EventTypeName} at version {e.Version}");
                ((IMigrationEvent)e.Data).MigrationId.ShouldBe(e.StreamId);
            }
        }
    }

    /// <summary>
    /// Reports the demo never wrote, as rows of the same time would hold them: no projection of this process handles
    /// them, so only the store's own list of event types can tell what they are.
    /// </summary>
    [Theory]
    [InlineData("step_heartbeat", "StepHeartbeat", """{"MigrationId":"{id}","Step":"Transfer","Host":"host-a","Timestamp":"2026-12-05T07:08:35+00:00"}""")]
    [InlineData("vm_located", "VmLocated", """{"MigrationId":"{id}","Host":"host-a","VmId":"vm-1","Presence":"Running","Detail":null,"Timestamp":"2026-12-05T07:08:35+00:00","Epoch":1}""")]
    [InlineData("preflight_failed", "PreflightFailed", """{"MigrationId":"{id}","Reason":"no room","PredictedDowntimeMs":null,"Timestamp":"2026-12-05T07:08:35+00:00"}""")]
    [InlineData("post_copy_recovered", "PostCopyRecovered", """{"MigrationId":"{id}","RunningOn":"host-b","Attempts":1,"PausedMs":12.5,"Detail":"resumed","Timestamp":"2026-12-05T07:08:35+00:00"}""")]
    public async Task Should_read_a_report_no_projection_handles_by_its_stored_name(string alias, string oldTypeName, string data)
    {
        var id = Guid.NewGuid();
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            await using (var stream = new NpgsqlCommand($"insert into {_schema.Name}.mt_streams (id, version) values ($1, 1)", connection))
            {
                stream.Parameters.AddWithValue(id);
                await stream.ExecuteNonQueryAsync();
            }
            await using var insert = new NpgsqlCommand(
                $"insert into {_schema.Name}.mt_events (seq_id, id, stream_id, version, data, type, mt_dotnet_type) "
                + "values (100000, gen_random_uuid(), $1, 1, $2::jsonb, $3, $4)", connection);
            insert.Parameters.AddWithValue(id);
            insert.Parameters.AddWithValue(data.Replace("{id}", id.ToString()));
            insert.Parameters.AddWithValue(alias);
            insert.Parameters.AddWithValue($"Orchestrator.Contracts.{oldTypeName}, Orchestrator.Contracts");
            await insert.ExecuteNonQueryAsync();
        }

        await using var session = _store.QuerySession();
        var read = (await session.Events.FetchStreamAsync(id)).ShouldHaveSingleItem();

        read.Data.GetType().FullName.ShouldBe($"Orchestrator.Contracts.Workers.{oldTypeName}");
        ((IMigrationEvent)read.Data).MigrationId.ShouldBe(id);
    }

    [Fact]
    public async Task Should_rebuild_the_summaries_exactly_as_they_were_stored()
    {
        using (var daemon = await _store.BuildProjectionDaemonAsync())
            await daemon.RebuildProjectionAsync(typeof(MigrationSummaryProjection), TimeSpan.FromSeconds(30), CancellationToken.None);

        await using var session = _store.QuerySession();
        var rebuilt = await session.Query<MigrationSummary>().ToListAsync();
        var expected = Fixture["summaries"]!.AsArray().Select(s => s!.Deserialize<MigrationSummary>()!).ToList();
        rebuilt.Count.ShouldBe(expected.Count);
        foreach (var summary in expected)
            JsonSerializer.Serialize(rebuilt.Single(r => r.Id == summary.Id)).ShouldBe(JsonSerializer.Serialize(summary));
        expected.Select(s => s.State).ShouldContain(MigrationStates.RolledBack);
        expected.Select(s => s.State).ShouldContain(MigrationStates.Completed);
    }

    [Fact]
    public async Task Should_verify_every_hash_chain_intact()
    {
        var verdicts = await ChainVerifier.VerifyAll(_store);

        verdicts.Count.ShouldBe(Fixture["streams"]!.AsArray().Count);
        verdicts.ShouldAllBe(v => v.Intact);
    }
}
