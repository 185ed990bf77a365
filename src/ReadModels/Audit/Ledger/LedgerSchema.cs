using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Orchestrator.ReadModels.Audit.Ledger;

/// <summary>
/// The ledger's two tables, created and migrated by Marten with the rest of the schema (so a store opened without
/// schema changes, as the audit's, never touches them): <c>audit_ledger</c>, every event of every stream in the order
/// it was ledgered (one row per leaf), and <c>audit_checkpoints</c>, the signed tree heads.
/// </summary>
public static class LedgerSchema
{
    public const string LedgerTable = "audit_ledger";
    public const string CheckpointTable = "audit_checkpoints";

    public static void ConfigureLedger(this StoreOptions options)
    {
        var ledger = new Table(PostgresqlProvider.Instance.Parse($"{options.DatabaseSchemaName}.{LedgerTable}"));
        ledger.AddColumn<long>("leaf").AsPrimaryKey();
        ledger.AddColumn<long>("seq_id").NotNull().AddIndex(index => index.IsUnique = true);
        ledger.AddColumn<Guid>("stream_id").NotNull();
        ledger.AddColumn<long>("version").NotNull();
        ledger.AddColumn("hash", "text").NotNull();
        options.Storage.ExtendedSchemaObjects.Add(ledger);

        var checkpoints = new Table(PostgresqlProvider.Instance.Parse($"{options.DatabaseSchemaName}.{CheckpointTable}"));
        checkpoints.AddColumn<long>("tree_size").AsPrimaryKey();
        checkpoints.AddColumn("root_hash", "text").NotNull();
        checkpoints.AddColumn<DateTimeOffset>("signed_at").NotNull();
        checkpoints.AddColumn("key_id", "text").NotNull();
        checkpoints.AddColumn("checkpoint", "text").NotNull();
        // The tree's perfect subtrees at this size (CompactRange), so the next checkpoint hashes only what came since.
        checkpoints.AddColumn("frontier", "text").NotNull();
        options.Storage.ExtendedSchemaObjects.Add(checkpoints);
    }

    public static string Ledger(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.{LedgerTable}";

    public static string Checkpoints(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.{CheckpointTable}";

    /// <summary>
    /// Creates the ledger's tables when the store may change the schema and they are missing (serve creates them at
    /// start with the rest; a writer such as <c>audit checkpoint</c> may come first). A read-only store never does.
    /// </summary>
    public static async Task Ensure(IDocumentStore store, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (store.Options is StoreOptions { AutoCreateSchemaObjects: JasperFx.AutoCreate.None } || await Exists(connection, store, cancellationToken))
            return;
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    }

    /// <summary>Whether the ledger's tables are there: a store older than the ledger, or never checkpointed by a writer, has none.</summary>
    public static async Task<bool> Exists(NpgsqlConnection connection, IDocumentStore store, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select to_regclass($1) is not null and to_regclass($2) is not null", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Ledger(store) });
        command.Parameters.Add(new NpgsqlParameter { Value = Checkpoints(store) });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
