using JasperFx;
using Marten;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// Issue 15: the hash (version 2) covers every field an auditor relies on. Each tamper class is found, at the first bad
/// event, by the product's verifier and by tools/audit_verify.py (exit 5) on the export the product makes afterwards.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_an_auditor_checks_every_field_an_event_carries : IAsyncLifetime
{
    readonly TestSchema _schema = TestSchema.Create("auditfld");
    readonly string _directory = Directory.CreateTempSubdirectory("audit-").FullName;
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

    public static TheoryData<string, string, long, string> Tampering() => new()
    {
        { "principal", "update {schema}.mt_events set headers = jsonb_set(headers, '{principal}', '\"operator-mallory\"') where stream_id = @id and version = 3", 3, "content was altered" },
        { "timestamp", "update {schema}.mt_events set timestamp = timestamp - interval '1 hour' where stream_id = @id and version = 5", 5, "content was altered" },
        { "correlation id", "update {schema}.mt_events set correlation_id = 'corr-forged' where stream_id = @id and version = 4", 4, "content was altered" },
        { "causation id", "update {schema}.mt_events set causation_id = null where stream_id = @id and version = 9", 9, "content was altered" },
        { "type", "update {schema}.mt_events set type = 'migration_failed' where stream_id = @id and version = 15", 15, "content was altered" },
        { "archived tail", "update {schema}.mt_events set is_archived = true where stream_id = @id and version >= 13", 13, "marked archived" },
        { "number rewritten", "update {schema}.mt_events set data = jsonb_set(data, '{BytesTransferred}', '4294967296.0000001') where stream_id = @id and version = 8", 8, "4294967296.0000001" },
        { "data", "update {schema}.mt_events set data = jsonb_set(data, '{DowntimeMs}', '1.5') where stream_id = @id and version = 12", 12, "content was altered" },
    };

    async Task<string> Export()
    {
        var path = Path.Combine(_directory, $"export-{Guid.NewGuid():N}.ndjson");
        await using (var file = File.CreateText(path))
            await AuditExport.WriteNdjson(_store, file);
        return path;
    }

    [Fact]
    public async Task Should_pass_a_clean_export_through_the_independent_verifier()
    {
        await AuditHistory.WriteMigration(_store);
        await AuditHistory.WriteDrain(_store);

        var (exitCode, output) = await AuditHistory.Python("--export", await Export());

        exitCode.ShouldBe(0, output);
        output.ShouldContain("intact: 17 events in 2 streams");
    }

    /// <summary>Tampered copies of one clean export: an edit to the file itself, not to the store, is named too.</summary>
    [Theory]
    [InlineData("\"principal\": \"operator-alice\"", "\"principal\": \"operator-mallory\"")]
    [InlineData("\"isArchived\":false", "\"isArchived\":true")]
    [InlineData("\"BytesTransferred\": 4294967296", "\"BytesTransferred\": 4294967296.0000001")]
    public async Task Should_name_the_first_bad_event_of_a_tampered_copy_of_the_export(string original, string forged)
    {
        var id = await AuditHistory.WriteMigration(_store);
        var clean = await Export();
        var lines = await File.ReadAllLinesAsync(clean);
        var at = Array.FindLastIndex(lines, line => line.Contains(original, StringComparison.Ordinal));
        at.ShouldBeGreaterThanOrEqualTo(0, $"{original} is not in the export");
        var version = System.Text.Json.JsonDocument.Parse(lines[at]).RootElement.GetProperty("version").GetInt64();
        lines[at] = lines[at].Replace(original, forged, StringComparison.Ordinal);
        var tampered = Path.Combine(_directory, "tampered.ndjson");
        await File.WriteAllLinesAsync(tampered, lines);

        (await AuditHistory.Python("--export", clean)).ExitCode.ShouldBe(0);
        var (exitCode, output) = await AuditHistory.Python("--export", tampered);

        exitCode.ShouldBe(5, output);
        output.ShouldContain($"TAMPERED: stream {id} event {version} ");
    }

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Should_name_the_first_bad_event_of_each_tamper_class(string what, string sql, long firstBad, string problem)
    {
        var id = await AuditHistory.WriteMigration(_store);
        await AuditHistory.WriteDrain(_store);
        (await ChainVerifier.Verify(_store, id)).Intact.ShouldBeTrue();

        await AuditHistory.Sql(_schema.Name, sql, id);

        var verdict = await ChainVerifier.Verify(_store, id);
        verdict.Intact.ShouldBeFalse(what);
        verdict.FirstBrokenVersion.ShouldBe(firstBad, what);
        verdict.Problem.ShouldNotBeNull().ShouldContain(problem);
        (await ChainVerifier.VerifyAll(_store)).Single(v => !v.Intact).ShouldBe(verdict);
        var (exitCode, output) = await AuditHistory.Python("--export", await Export());
        exitCode.ShouldBe(5, output);
        output.ShouldContain($"TAMPERED: stream {id} event {firstBad} ");
    }

    [Fact]
    public async Task Should_verify_drain_streams_with_every_other()
    {
        await AuditHistory.WriteMigration(_store);
        var drain = await AuditHistory.WriteDrain(_store);
        await AuditHistory.Sql(_schema.Name, "update {schema}.mt_events set headers = jsonb_set(headers, '{principal}', '\"nobody\"') where stream_id = @id and version = 2", drain);

        var verdicts = await ChainVerifier.VerifyAll(_store);

        verdicts.Count.ShouldBe(2);
        verdicts.Single(v => !v.Intact).StreamId.ShouldBe(drain);
        var (exitCode, output) = await AuditHistory.Python("--export", await Export());
        exitCode.ShouldBe(5, output);
        output.ShouldContain($"TAMPERED: stream {drain} event 2 ");
    }

    [Fact]
    public async Task Should_replay_a_rewritten_number_as_tampering_not_as_a_crash()
    {
        var id = await AuditHistory.WriteMigration(_store);
        await AuditHistory.Sql(_schema.Name,
            "update {schema}.mt_events set data = jsonb_set(data, '{BytesTransferred}', '4294967296.0000001') where stream_id = @id and version = 8", id);
        await using var session = _store.QuerySession();

        (await MigrationReplay.AsOf(session, id, version: 7)).ShouldNotBeNull();
        var tampered = await Should.ThrowAsync<TamperedHistoryException>(() => MigrationReplay.AsOf(session, id));

        tampered.Verdict.FirstBrokenVersion.ShouldBe(8);
        tampered.Message.ShouldContain("4294967296.0000001");
    }
}
