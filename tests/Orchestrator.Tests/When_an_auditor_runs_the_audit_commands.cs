using System.Text.Json;
using Marten;
using Npgsql;
using Orchestrator.Cli;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;

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
        Directory.Delete(_directory, recursive: true);
        try
        {
            await _store.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    readonly string _signingKey = ReadModels.Audit.Ledger.SigningKey.GenerateBase64();
    readonly string _directory = Directory.CreateTempSubdirectory("auditcli-").FullName;

    Task<(int ExitCode, string Output)> Cli(params string[] arguments) => CliAs(TestServices.Postgres, arguments);

    Task<(int ExitCode, string Output)> CliAs(string postgres, params string[] arguments) => OrchestratorProcess.Run(new Dictionary<string, string>
    {
        ["ConnectionStrings__Postgres"] = postgres,
        ["Orchestrator__Schema"] = _schema.Name,
        ["Audit__SigningKey"] = _signingKey,
        ["COLUMNS"] = "200",
    }, arguments);

    string PathOf(string name) => Path.Combine(_directory, name);

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
    public async Task Should_rebuild_the_summaries_from_the_events_after_they_were_lost()
    {
        var (migration, _) = await WriteHistories();
        await Sql("update {schema}.mt_doc_migrationsummary set data = jsonb_set(data, '{VmId}', '\"wrong\"') where id = @id", migration);

        var (exitCode, output) = await Cli("rebuild-summaries");

        exitCode.ShouldBe(ExitCodes.Ok, output);
        output.ShouldMatch(@"Rebuilt 1 migration summaries from the events in \d+\.\d s\.");
        await using var session = _store.QuerySession();
        var summary = await session.LoadAsync<MigrationSummary>(migration);
        summary.ShouldNotBeNull().VmId.ShouldBe("vm-audit-cli");
        summary.Rounds.ShouldBe(1);
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

    /// <summary>
    /// The auditor's round: a checkpoint kept as a file, the public key, proofs; then the newest stream's tail cut, with
    /// its ledger entries and the stored checkpoints: the kept checkpoint still sees it, in the product and in Python.
    /// </summary>
    [Fact]
    public async Task Should_keep_a_signed_checkpoint_that_later_detects_a_truncated_tail()
    {
        var (migration, _) = await WriteHistories();
        (await Cli("audit", "checkpoint", "-f", PathOf("first.json"))).ExitCode.ShouldBe(ExitCodes.Ok);
        var (newest, _) = await WriteHistories();
        var (taken, takenOutput) = await Cli("audit", "checkpoint", "-f", PathOf("kept.json"));
        taken.ShouldBe(ExitCodes.Ok, takenOutput);
        var (keyed, pem) = await Cli("audit", "public-key");
        keyed.ShouldBe(ExitCodes.Ok, pem);
        await File.WriteAllTextAsync(PathOf("public.pem"), pem);
        var (_, keyJson) = await Cli("audit", "public-key", "-o", "json");
        JsonDocument.Parse(keyJson).RootElement.GetProperty("keyId").GetString()
            .ShouldBe(JsonDocument.Parse(await File.ReadAllTextAsync(PathOf("kept.json"))).RootElement.GetProperty("checkpoint").GetProperty("keyId").GetString());
        var kept = new[] { "--checkpoint", PathOf("kept.json"), "--public-key", PathOf("public.pem") };

        var (clean, cleanOutput) = await Cli(["audit", "verify", "--all", .. kept]);
        clean.ShouldBe(ExitCodes.Ok, cleanOutput);
        cleanOutput.ShouldContain("ledger intact  8 events, 3 checkpoints checked");
        var (included, inclusion) = await Cli("audit", "prove", "--checkpoint", PathOf("kept.json"), "--sequence", "2", "-o", "json");
        included.ShouldBe(ExitCodes.Ok, inclusion);
        JsonDocument.Parse(inclusion).RootElement.GetProperty("verified").GetBoolean().ShouldBeTrue();
        var (consistent, consistency) = await Cli("audit", "prove", "--checkpoint", PathOf("kept.json"), "--from", PathOf("first.json"));
        consistent.ShouldBe(ExitCodes.Ok, consistency);
        consistency.ShouldContain("the checkpoint of 8 events extends the one of 4");
        await Export("clean.ndjson");
        (await Python("clean.ndjson")).ExitCode.ShouldBe(0);

        await Sql("""
            delete from {schema}.audit_ledger where seq_id in (select seq_id from {schema}.mt_events where stream_id = @id and version > 1);
            delete from {schema}.mt_events where stream_id = @id and version > 1;
            delete from {schema}.audit_checkpoints;
            update {schema}.audit_ledger l set leaf = -1 - n.leaf from (select seq_id, row_number() over (order by leaf) - 1 as leaf from {schema}.audit_ledger) n where n.seq_id = l.seq_id;
            update {schema}.audit_ledger set leaf = -1 - leaf;
            """, newest);
        // Without the kept checkpoint, what is left is consistent: the ledger, renumbered, and the chains.
        (await Cli("audit", "verify", "--all")).ExitCode.ShouldBe(ExitCodes.Ok);

        var (cut, cutOutput) = await Cli(["audit", "verify", "--all", .. kept]);
        cut.ShouldBe(ExitCodes.TamperingFound, cutOutput);
        cutOutput.ShouldContain("LEDGER BROKEN  the checkpoint of 8 events");
        cutOutput.ShouldContain("covers more than the ledger holds (6)");
        cutOutput.ShouldContain($"intact  {newest}  1 events");
        await Export("cut.ndjson");
        var (python, pythonOutput) = await Python("cut.ndjson");
        python.ShouldBe(5, pythonOutput);
        pythonOutput.ShouldContain("covered by the checkpoint of 8 events, is missing");
        var (unproved, unprovedOutput) = await Cli("audit", "prove", "--checkpoint", PathOf("kept.json"), "--from", PathOf("first.json"));
        unproved.ShouldBe(ExitCodes.TamperingFound, unprovedOutput);
        migration.ShouldNotBe(newest);
    }

    /// <summary>
    /// An auditor's database role may only read: verify, replay and export run under it and change nothing (the role
    /// could not: a schema change would fail with 42501 and the command with it).
    /// </summary>
    [Fact]
    public async Task Should_verify_replay_and_export_under_a_role_that_may_only_select()
    {
        var (migration, drain) = await WriteHistories();
        (await Cli("audit", "checkpoint", "-f", PathOf("kept.json"))).ExitCode.ShouldBe(ExitCodes.Ok);
        var role = $"t_ro_{Guid.NewGuid():N}"[..20];
        var password = Guid.NewGuid().ToString("N");
        await Admin($"create role {role} login password '{password}'; grant usage on schema {_schema.Name} to {role}; "
            + $"grant select on all tables in schema {_schema.Name} to {role}");
        try
        {
            var readOnly = new NpgsqlConnectionStringBuilder(TestServices.Postgres) { Username = role, Password = password }.ConnectionString;
            var before = await SchemaObjects();

            var verified = await CliAs(readOnly, "audit", "verify", "--all", "-o", "json");
            var replayed = await CliAs(readOnly, "audit", "replay", migration.ToString(), "-o", "json");
            var exported = await CliAs(readOnly, "audit", "export");
            var one = await CliAs(readOnly, "audit", "verify", drain.ToString());

            verified.ExitCode.ShouldBe(ExitCodes.Ok, verified.Output);
            JsonDocument.Parse(verified.Output).RootElement.GetProperty("ledger").GetProperty("entries").GetInt64().ShouldBe(4);
            replayed.ExitCode.ShouldBe(ExitCodes.Ok, replayed.Output);
            JsonDocument.Parse(replayed.Output).RootElement.GetProperty("vmId").GetString().ShouldBe("vm-audit-cli");
            exported.ExitCode.ShouldBe(ExitCodes.Ok, exported.Output);
            exported.Output.Trim().Split('\n').Length.ShouldBe(4);
            one.ExitCode.ShouldBe(ExitCodes.Ok, one.Output);
            (await SchemaObjects()).ShouldBe(before);
            var (written, writtenOutput) = await CliAs(readOnly, "audit", "checkpoint");
            written.ShouldBe(ExitCodes.Unreachable, writtenOutput);
            writtenOutput.Trim().ShouldStartWith("PostgreSQL refused: ");
            writtenOutput.ShouldContain("(42501)");
        }
        finally
        {
            await Admin($"revoke select on all tables in schema {_schema.Name} from {role}; revoke usage on schema {_schema.Name} from {role}; drop role {role}");
        }
    }

    async Task Admin(string sql)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every table, column, index and function of the schema, with its definition: any schema change shows here.</summary>
    async Task<string> SchemaObjects()
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            select string_agg(x, E'\n' order by x) from (
              select table_name || '.' || column_name || ':' || data_type as x from information_schema.columns where table_schema = @s
              union all select indexdef from pg_indexes where schemaname = @s
              union all select p.proname || md5(p.prosrc) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = @s) objects
            """, connection);
        command.Parameters.AddWithValue("s", _schema.Name);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    async Task Export(string name)
    {
        var (exported, output) = await Cli("audit", "export");
        exported.ShouldBe(ExitCodes.Ok);
        await File.WriteAllTextAsync(PathOf(name), output);
    }

    async Task<(int ExitCode, string Output)> Python(string export)
    {
        var start = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { ToolPath(), "--export", PathOf(export), "--checkpoint", PathOf("kept.json"), "--public-key", PathOf("public.pem") })
            start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    static string ToolPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "tools", "audit_verify.py")))
                return Path.Combine(directory.FullName, "tools", "audit_verify.py");
        throw new InvalidOperationException("tools/audit_verify.py is not above " + AppContext.BaseDirectory);
    }
}
