using JasperFx;
using Marten;
using Npgsql;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// Issue 15: what a chain cannot see, the ledger and its signed checkpoints do: a truncated tail, a deleted stream, a
/// stream re-chained with recomputed hashes; and a checkpoint signed with another key is refused.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_ledger_covers_every_stream : IAsyncLifetime
{
    static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    readonly TestSchema _schema = TestSchema.Create("ledger");
    readonly SigningKey _key = SigningKey.FromBase64(SigningKey.GenerateBase64());
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

    Task<LedgerVerdict> Verify(params Checkpoint[] kept) => LedgerVerifier.Verify(_store, kept, _key.Public);

    Task Sql(string sql, Guid id) => AuditHistory.Sql(_schema.Name, sql, id);

    /// <summary>tools/audit_verify.py on the export the product makes now, with a kept checkpoint and the signer's public key.</summary>
    async Task<(int ExitCode, string Output)> Python(Checkpoint kept)
    {
        var directory = Directory.CreateTempSubdirectory("ledger-").FullName;
        try
        {
            var export = Path.Combine(directory, "export.ndjson");
            await using (var file = File.CreateText(export))
                await AuditExport.WriteNdjson(_store, file);
            await File.WriteAllTextAsync(Path.Combine(directory, "checkpoint.json"), kept.ToFileJson());
            await File.WriteAllTextAsync(Path.Combine(directory, "public.pem"), _key.PublicKeyPem());
            return await AuditHistory.Python("--export", export, "--checkpoint", Path.Combine(directory, "checkpoint.json"),
                "--public-key", Path.Combine(directory, "public.pem"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    async Task ShouldBeTamperedForPython(Checkpoint kept, string expected)
    {
        var (exitCode, output) = await Python(kept);
        exitCode.ShouldBe(5, output);
        output.ShouldContain(expected);
    }

    /// <summary>Two migrations and a drain, the newest migration last, all under a checkpoint kept as a file would keep it.</summary>
    async Task<(Guid First, Guid Drain, Guid Newest, Checkpoint Kept)> Histories()
    {
        var first = await AuditHistory.WriteMigration(_store);
        var drain = await AuditHistory.WriteDrain(_store);
        var newest = await AuditHistory.WriteMigration(_store);
        var kept = Checkpoint.Parse((await AuditLedger.TakeCheckpoint(_store, _key, Now)).ToFileJson());
        return (first, drain, newest, kept);
    }

    [Fact]
    public async Task Should_verify_an_untouched_store_against_its_checkpoints()
    {
        var (_, _, _, kept) = await Histories();
        await AuditHistory.WriteMigration(_store);
        var later = await AuditLedger.TakeCheckpoint(_store, _key, Now.AddMinutes(1));

        var verdict = await Verify(kept);

        verdict.Intact.ShouldBeTrue(verdict.Problem);
        kept.TreeSize.ShouldBe(32);
        later.TreeSize.ShouldBe(47);
        verdict.Entries.ShouldBe(47);
        verdict.CheckpointsChecked.ShouldBe(3);
        var (exitCode, output) = await Python(kept);
        exitCode.ShouldBe(0, output);
        output.ShouldContain("intact: 47 events in 4 streams; the store extends the signed checkpoint of 32 events");
    }

    [Fact]
    public async Task Should_name_a_truncated_tail_of_the_newest_stream()
    {
        var (_, _, newest, kept) = await Histories();
        await Sql("delete from {schema}.mt_events where stream_id = @id and version > 12", newest);

        (await ChainVerifier.Verify(_store, newest)).Intact.ShouldBeTrue("a chain cannot see its own tail");
        var verdict = await Verify(kept);

        verdict.Intact.ShouldBeFalse();
        (verdict.StreamId, verdict.Version).ShouldBe((newest, 13L));
        verdict.Problem.ShouldNotBeNull().ShouldContain("no longer in the store: deleted");
        await ShouldBeTamperedForPython(kept, $"stream {newest} event 13 (sequence");
    }

    [Fact]
    public async Task Should_detect_a_truncated_tail_with_a_kept_checkpoint_when_the_ledger_and_stored_checkpoints_are_cut_too()
    {
        var (_, _, newest, kept) = await Histories();
        await Sql("""
            delete from {schema}.audit_ledger where seq_id in (select seq_id from {schema}.mt_events where stream_id = @id and version > 12);
            delete from {schema}.mt_events where stream_id = @id and version > 12;
            delete from {schema}.audit_checkpoints;
            """, newest);

        (await LedgerVerifier.Verify(_store, [], _key.Public)).Intact.ShouldBeTrue("without a kept checkpoint, a consistent cut is not seen");
        var verdict = await Verify(kept);

        verdict.Intact.ShouldBeFalse();
        verdict.Problem.ShouldNotBeNull().ShouldContain("covers more than the ledger holds (29)");
        await ShouldBeTamperedForPython(kept, "ledger leaf 29, covered by the checkpoint of 32 events, is missing");
    }

    [Fact]
    public async Task Should_name_a_deleted_stream()
    {
        var (_, drain, _, kept) = await Histories();
        await Sql("delete from {schema}.mt_events where stream_id = @id; delete from {schema}.mt_streams where id = @id", drain);

        (await ChainVerifier.VerifyAll(_store)).ShouldAllBe(v => v.Intact);
        var verdict = await Verify(kept);

        (verdict.StreamId, verdict.Version).ShouldBe((drain, 1L));
        verdict.Problem.ShouldNotBeNull().ShouldContain("deleted");
        await ShouldBeTamperedForPython(kept, $"stream {drain} event 1 (sequence");
    }

    [Fact]
    public async Task Should_see_a_forged_event_re_chained_with_recomputed_hashes()
    {
        var (first, _, _, kept) = await Histories();
        await Rechain(first, fromVersion: 8, "update {schema}.mt_events set data = jsonb_set(data, '{BytesTransferred}', '1') where stream_id = @id and version = 8");

        (await ChainVerifier.Verify(_store, first)).Intact.ShouldBeTrue("the forger recomputed every hash");
        var named = await Verify(kept);
        (named.StreamId, named.Version).ShouldBe((first, 8L));
        named.Problem.ShouldNotBeNull().ShouldContain("not the event the ledger recorded");
        await ShouldBeTamperedForPython(kept, $"stream {first} event 8 (");

        // The forger rewrites the ledger too, and the stored checkpoints: the kept checkpoint's root no longer matches.
        await Sql("""
            update {schema}.audit_ledger l set hash = e.headers->>'hash' from {schema}.mt_events e where e.seq_id = l.seq_id and e.stream_id = @id;
            delete from {schema}.audit_checkpoints;
            """, first);
        var verdict = await Verify(kept);
        verdict.Intact.ShouldBeFalse();
        verdict.Problem.ShouldNotBeNull().ShouldContain("no longer extends the checkpoint of 32 events");
        await ShouldBeTamperedForPython(kept, "the store no longer extends the checkpoint of 32 events");
    }

    [Fact]
    public async Task Should_refuse_a_checkpoint_signed_with_another_key()
    {
        var (_, _, _, kept) = await Histories();
        var other = SigningKey.FromBase64(SigningKey.GenerateBase64());
        // The same tree head, signed by someone else: the content is right, the signer is not.
        var forged = Checkpoint.Sign(other, kept.Origin, kept.TreeSize, Convert.FromHexString(kept.RootHash), Now.AddMinutes(5));

        var verdict = await Verify(forged);

        verdict.Intact.ShouldBeFalse();
        verdict.Problem.ShouldNotBeNull().ShouldContain("not signed by the given key");
        verdict.Problem.ShouldContain(other.KeyId);
        await ShouldBeTamperedForPython(forged, "is not signed by the given public key: refused");
    }

    /// <summary>
    /// A transaction that fails after its events drew their sequence numbers leaves Marten's tombstones in their place:
    /// placeholders with no history in them. They are nobody's tampering: every check stays clean.
    /// </summary>
    [Fact]
    public async Task Should_take_the_tombstones_of_a_failed_transaction_as_no_history()
    {
        var id = await AuditHistory.WriteMigration(_store);
        await using (var failing = _store.LightweightSession())
        {
            // Events appended, then a document that cannot be inserted in the same transaction: it rolls back after
            // the sequence numbers were drawn, and Marten fills them with tombstones.
            failing.Events.Append(id, new Contracts.MigrationAdmitted(id, 3, Now));
            failing.Insert(new Migrations.MigrationSummary { Id = id });
            await Should.ThrowAsync<Exception>(() => failing.SaveChangesAsync());
        }
        // Marten writes the tombstones after the failure, in the background: wait for them (none would show nothing).
        await Eventually.Get(() => Count("select count(*) from {schema}.mt_events where type = 'tombstone'"), count => count > 0,
            "Marten's tombstones for the failed transaction");
        var kept = await AuditLedger.TakeCheckpoint(_store, _key, Now);

        (await ChainVerifier.VerifyAll(_store)).ShouldAllBe(v => v.Intact);
        (await ChainVerifier.VerifyAll(_store)).Count.ShouldBe(1);
        (await Verify(kept)).Intact.ShouldBeTrue();
        var (exitCode, output) = await Python(kept);
        exitCode.ShouldBe(0, output);
    }

    async Task<long> Count(string sql)
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", _schema.Name), connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>What a forger with write access does: change an event, then recompute its hash and every later one's.</summary>
    async Task Rechain(Guid id, long fromVersion, string change)
    {
        await Sql(change, id);
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        var events = new List<StoredEvent>();
        await using (var read = new NpgsqlCommand($"select {EventRows.Columns} from {_schema.Name}.mt_events e where e.stream_id = @id order by e.version", connection))
        {
            read.Parameters.AddWithValue("id", id);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                events.Add(EventRows.Read(reader));
        }
        var previous = events.Single(e => e.Version == fromVersion - 1).Header(HashChain.HashHeader)!;
        foreach (var e in events.Where(e => e.Version >= fromVersion))
        {
            var hash = HashChain.ComputeV2(previous, e);
            await using var write = new NpgsqlCommand($"update {_schema.Name}.mt_events set headers = headers || jsonb_build_object('hash', @hash, 'previous-hash', @previous) where seq_id = @seq", connection);
            write.Parameters.AddWithValue("hash", hash);
            write.Parameters.AddWithValue("previous", previous);
            write.Parameters.AddWithValue("seq", e.Sequence);
            (await write.ExecuteNonQueryAsync()).ShouldBe(1);
            previous = hash;
        }
    }
}
