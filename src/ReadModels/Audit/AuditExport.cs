using System.Text;
using System.Text.Json;
using Marten;
using Npgsql;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// History as NDJSON for an auditor's tools: one event per line, in the order it was stored, with every column the hash
/// and the ledger cover (sequence, stream, version, type, time, correlation, causation, archived flag, headers with the
/// hash chain among them) and its data exactly as PostgreSQL holds it, so the chain can be verified from the export alone
/// (tools/audit_verify.py does; docs/audit.md says how).
/// </summary>
public static class AuditExport
{
    public static async Task<int> WriteNdjson(IDocumentStore store, TextWriter output, Guid? migrationId = null, DateTimeOffset? since = null,
        DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        var sql = new StringBuilder($"select {EventRows.Columns} from {EventRows.Table(store)} where true");
        await using var command = new NpgsqlCommand { Connection = connection };
        if (migrationId is { } id)
        {
            sql.Append(" and stream_id = @id");
            command.Parameters.AddWithValue("id", id);
        }
        if (since is { } from)
        {
            sql.Append(" and timestamp >= @since");
            command.Parameters.AddWithValue("since", from);
        }
        if (until is { } to)
        {
            sql.Append(" and timestamp < @until");
            command.Parameters.AddWithValue("until", to);
        }
        command.CommandText = sql.Append(" order by seq_id").ToString();

        var lines = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = EventRows.Read(reader);
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
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
                json.WriteEndObject();
            }
            await output.WriteLineAsync(Encoding.UTF8.GetString(buffer.ToArray()).AsMemory(), cancellationToken);
            lines++;
        }
        return lines;
    }

    static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
            json.WriteNull(name);
        else
            json.WriteString(name, value);
    }
}
