using System.Text;
using System.Text.Json;
using Marten;
using Npgsql;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// History as NDJSON for an auditor's tools: one event per line, in the order it was stored, with its stream, version,
/// type, time, correlation, causation, headers (the hash chain among them) and its data exactly as PostgreSQL holds it,
/// so the chain can be verified from the export alone.
/// </summary>
public static class AuditExport
{
    public static async Task<int> WriteNdjson(IDocumentStore store, TextWriter output, Guid? migrationId = null, DateTimeOffset? since = null,
        DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        var sql = new StringBuilder($"select seq_id, stream_id, version, type, timestamp, correlation_id, causation_id, headers::text, data::text "
            + $"from {store.Options.Events.DatabaseSchemaName}.mt_events where true");
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
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("sequence", reader.GetInt64(0));
                json.WriteString("streamId", reader.GetGuid(1));
                json.WriteNumber("version", reader.GetInt64(2));
                json.WriteString("type", reader.GetString(3));
                json.WriteString("timestamp", reader.GetFieldValue<DateTimeOffset>(4));
                WriteNullable(json, "correlationId", reader, 5);
                WriteNullable(json, "causationId", reader, 6);
                json.WritePropertyName("headers");
                json.WriteRawValue(reader.IsDBNull(7) ? "null" : reader.GetString(7));
                json.WritePropertyName("data");
                json.WriteRawValue(reader.GetString(8));
                json.WriteEndObject();
            }
            await output.WriteLineAsync(Encoding.UTF8.GetString(buffer.ToArray()).AsMemory(), cancellationToken);
            lines++;
        }
        return lines;
    }

    static void WriteNullable(Utf8JsonWriter json, string name, NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            json.WriteNull(name);
        else
            json.WriteString(name, reader.GetString(ordinal));
    }
}
