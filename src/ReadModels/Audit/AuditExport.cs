using System.Text;
using System.Text.Json;
using Marten;
using Npgsql;
using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// History as NDJSON for an auditor's tools: one event per line, in the order it was stored, with every column the hash
/// and the ledger cover (sequence, stream, version, type, time, correlation, causation, archived flag, headers with the
/// hash chain among them, the ledger leaf and the hash the ledger recorded) and its data exactly as PostgreSQL holds it,
/// so the history can be verified from the export alone (tools/audit_verify.py does; docs/audit.md says how). A whole
/// export also has a line for each ledger entry whose event is gone (<c>"ledgerOnly": true</c>).
/// </summary>
public static class AuditExport
{
    public static async Task<int> WriteNdjson(IDocumentStore store, TextWriter output, Guid? streamId = null, DateTimeOffset? since = null,
        DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        var ledgered = await LedgerSchema.Exists(connection, store, cancellationToken);
        var sql = new StringBuilder($"select {EventRows.Columns}, ")
            .Append(ledgered ? $"l.leaf, l.hash from {EventRows.Table(store)} e left join {LedgerSchema.Ledger(store)} l on l.seq_id = e.seq_id"
                : $"null::bigint, null::text from {EventRows.Table(store)} e")
            .Append(" where true");
        await using var command = new NpgsqlCommand { Connection = connection };
        if (streamId is { } id)
        {
            sql.Append(" and e.stream_id = @id");
            command.Parameters.AddWithValue("id", id);
        }
        if (since is { } from)
        {
            sql.Append(" and e.timestamp >= @since");
            command.Parameters.AddWithValue("since", from);
        }
        if (until is { } to)
        {
            sql.Append(" and e.timestamp < @until");
            command.Parameters.AddWithValue("until", to);
        }
        command.CommandText = sql.Append(" order by e.seq_id").ToString();

        var lines = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = EventRows.Read(reader);
                await output.WriteLineAsync(Line(json =>
                {
                    json.WriteNumber("sequence", e.Sequence);
                    json.WriteString("streamId", e.StreamId);
                    json.WriteNumber("version", e.Version);
                    json.WriteString("type", e.Type);
                    // The time exactly as the hash covers it (UTC, microseconds).
                    json.WriteString("timestamp", HashChain.Timestamp(e.Timestamp));
                    WriteNullable(json, "correlationId", e.CorrelationId);
                    WriteNullable(json, "causationId", e.CausationId);
                    json.WriteBoolean("isArchived", e.IsArchived);
                    json.WritePropertyName("headers");
                    json.WriteRawValue(e.HeadersJson ?? "null");
                    json.WritePropertyName("data");
                    json.WriteRawValue(e.DataJson);
                    if (reader.IsDBNull(10))
                        json.WriteNull("leaf");
                    else
                        json.WriteNumber("leaf", reader.GetInt64(10));
                    WriteNullable(json, "ledgerHash", reader.IsDBNull(11) ? null : reader.GetString(11));
                }).AsMemory(), cancellationToken);
                lines++;
            }
        if (ledgered && streamId is null && since is null && until is null)
            lines += await WriteLedgerOnly(store, connection, output, cancellationToken);
        return lines;
    }

    /// <summary>The ledger entries whose event is no longer in the store: evidence of a deletion, for the auditor to see.</summary>
    static async Task<int> WriteLedgerOnly(IDocumentStore store, NpgsqlConnection connection, TextWriter output, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"select l.leaf, l.seq_id, l.stream_id, l.version, l.hash from {LedgerSchema.Ledger(store)} l "
            + $"where not exists (select 1 from {EventRows.Table(store)} e where e.seq_id = l.seq_id) order by l.leaf", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lines = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            await output.WriteLineAsync(Line(json =>
            {
                json.WriteBoolean("ledgerOnly", true);
                json.WriteNumber("leaf", reader.GetInt64(0));
                json.WriteNumber("sequence", reader.GetInt64(1));
                json.WriteString("streamId", reader.GetGuid(2));
                json.WriteNumber("version", reader.GetInt64(3));
                json.WriteString("ledgerHash", reader.GetString(4));
            }).AsMemory(), cancellationToken);
            lines++;
        }
        return lines;
    }

    static string Line(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
            json.WriteNull(name);
        else
            json.WriteString(name, value);
    }
}
