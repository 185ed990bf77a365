using System.Text.Json;
using Marten;
using Npgsql;
using Orchestrator.Cli;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 15: <c>orchestrator audit</c> as an auditor runs it, on a store of its own: every stream (drains too) verified
/// by <c>--all</c>, a rewritten number named as tampering (exit 5, one line) instead of a crash, JSON on request.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_an_auditor_runs_the_audit_commands : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    readonly TestSchema _schema = TestSchema.Create("auditcli");
    DocumentStore _store = null!;

    OrchestratorSettings Settings => new(TestServices.Postgres, TestServices.RabbitMq, _schema.Name);

    public ValueTask InitializeAsync()
    {
        _store = DocumentStore.For(options => Roles.Configure(options, Settings));
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

    Task<(int ExitCode, string Output)> Cli(params string[] arguments) => OrchestratorProcess.Run(new Dictionary<string, string>
    {
        ["ConnectionStrings__Postgres"] = TestServices.Postgres,
        ["Orchestrator__Schema"] = _schema.Name,
        ["COLUMNS"] = "200",
    }, arguments);

    async Task<(Guid Migration, Guid Drain)> WriteHistories()
    {
        var migration = Guid.NewGuid();
        var drain = Guid.NewGuid();
        await using var session = _store.LightweightSession();
        session.SetHeader("principal", "operator-alice");
        session.Events.StartStream(migration,
            new MigrationRequested(migration, "vm-audit-cli", "a", "b", HypervisorKinds.Sim, MigrationStrategies.PreCopy, new MigrationPolicy(), "operator-alice", T0),
            new MigrationAdmitted(migration, 1, T0),
            new PreCopyRoundCompleted(migration, 1, 4L << 30, 512, 10, 100, 5.12, T0.AddSeconds(1)));
        session.Events.StartStream(drain, new HostDrainRequested(drain, "host-a", HypervisorKinds.Sim, ["host-b"], "operator-alice", T0));
        await session.SaveChangesAsync();
        return (migration, drain);
    }

    async Task Sql(string sql, Guid id)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", _schema.Name), connection);
        command.Parameters.AddWithValue("id", id);
        (await command.ExecuteNonQueryAsync()).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Should_verify_every_stream_drains_included_and_name_the_altered_one()
    {
        var (migration, drain) = await WriteHistories();

        var (clean, cleanOutput) = await Cli("audit", "verify", "--all", "-o", "json");
        clean.ShouldBe(ExitCodes.Ok, cleanOutput);
        var streams = JsonDocument.Parse(cleanOutput).RootElement.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("streamId").GetGuid());
        streams.Order().ShouldBe(new[] { migration, drain }.Order());

        await Sql("update {schema}.mt_events set headers = jsonb_set(headers, '{principal}', '\"nobody\"') where stream_id = @id", drain);
        var (broken, brokenOutput) = await Cli("audit", "verify", "--all");

        broken.ShouldBe(ExitCodes.TamperingFound, brokenOutput);
        brokenOutput.ShouldContain($"BROKEN  {drain}  at event 1");
        brokenOutput.ShouldContain($"intact  {migration}  3 events");
    }

    [Fact]
    public async Task Should_report_a_rewritten_number_as_tampering_in_one_line_not_crash()
    {
        var (migration, _) = await WriteHistories();
        await Sql("update {schema}.mt_events set data = jsonb_set(data, '{BytesTransferred}', '4294967296.0000001') where stream_id = @id and version = 3", migration);

        var (replayed, replayOutput) = await Cli("audit", "replay", migration.ToString(), "-o", "json");
        var (verified, verifyOutput) = await Cli("audit", "verify", migration.ToString(), "-o", "json");
        var (exported, exportOutput) = await Cli("audit", "export", migration.ToString());

        replayed.ShouldBe(ExitCodes.TamperingFound, replayOutput);
        replayOutput.Trim().Split('\n').Length.ShouldBe(1, replayOutput);
        replayOutput.ShouldContain("at event 3");
        replayOutput.ShouldContain("4294967296.0000001");
        verified.ShouldBe(ExitCodes.TamperingFound, verifyOutput);
        JsonDocument.Parse(verifyOutput).RootElement.GetProperty("streams")[0].GetProperty("firstBrokenVersion").GetInt64().ShouldBe(3);
        exported.ShouldBe(ExitCodes.Ok, exportOutput);
        exportOutput.ShouldContain("4294967296.0000001");
    }
}
