using Marten;
using System.Text;
using Npgsql;

namespace Orchestrator.ReadModels.Audit;

/// <summary>The events table read as PostgreSQL holds it (text, not deserialized objects): what verify and export see.</summary>
public static class EventRows
{
    /// <summary>The columns, of the events table aliased <c>e</c>.</summary>
    public const string Columns = "e.seq_id, e.stream_id, e.version, e.type, e.timestamp, e.correlation_id, e.causation_id, e.is_archived, e.headers::text, e.data::text";

    public static string Table(IDocumentStore store) => $"{store.Options.Events.DatabaseSchemaName}.mt_events";

    public static StoredEvent Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
        reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7),
        reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetString(9));

    /// <summary>
    /// A row with its headers and data kept as the UTF-8 PostgreSQL sent: what verify reads, since the hash is over
    /// UTF-8 (no text decoded only to be encoded again).
    /// </summary>
    public static StoredEvent ReadUtf8(NpgsqlDataReader reader) => StoredEvent.FromUtf8(
        reader.GetInt64(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
        reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7),
        reader.IsDBNull(8) ? null : (ReadOnlyMemory<byte>?)reader.GetFieldValue<byte[]>(8), reader.GetFieldValue<byte[]>(9));

    /// <summary>
    /// <see cref="ReadUtf8(NpgsqlDataReader)"/> with the headers and the data copied into <paramref name="arena"/> instead
    /// of arrays of their own, the correlation and causation ids too, and the event type one string per name: a pass over every row allocates far less (verify's reader).
    /// </summary>
    public static StoredEvent ReadUtf8(NpgsqlDataReader reader, ByteArena arena, EventTypeNames types) => StoredEvent.FromUtf8Row(
        reader.GetInt64(0), reader.GetGuid(1), reader.GetInt64(2), types.Read(reader, 3), reader.GetFieldValue<DateTimeOffset>(4),
        CopyOrNull(reader, 5, arena), CopyOrNull(reader, 6, arena), reader.GetBoolean(7), CopyOrNull(reader, 8, arena), Copy(reader, 9, arena));

    // Typed: a null converted to a memory would be an empty one.
    static ReadOnlyMemory<byte>? CopyOrNull(NpgsqlDataReader reader, int ordinal, ByteArena arena) =>
        reader.IsDBNull(ordinal) ? null : (ReadOnlyMemory<byte>?)Copy(reader, ordinal, arena);

    /// <summary>The column's bytes (its UTF-8, for text) copied into <paramref name="arena"/>.</summary>
    public static ReadOnlyMemory<byte> Copy(NpgsqlDataReader reader, int ordinal, ByteArena arena)
    {
        var length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
        var (array, offset) = arena.Take(length);
        var read = reader.GetBytes(ordinal, 0, array, offset, length);
        if (read != length)
            throw new InvalidOperationException($"Column {ordinal} gave {read} of its {length} bytes.");
        return array.AsMemory(offset, length);
    }

    /// <summary>
    /// The event type names a pass has met, each one string however many rows carry it: a store holds a few dozen names
    /// over millions of rows. One reader thread's.
    /// </summary>
    public sealed class EventTypeNames
    {
        const int MostKept = 4096;
        readonly Dictionary<int, List<(byte[] Utf8, string Name)>> _byHash = [];
        readonly byte[] _buffer = new byte[256];
        int _kept;

        public string Read(NpgsqlDataReader reader, int ordinal)
        {
            var length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
            if (length > _buffer.Length)
                return reader.GetString(ordinal);
            reader.GetBytes(ordinal, 0, _buffer, 0, length);
            var utf8 = _buffer.AsSpan(0, length);
            var hash = HashCodeOf(utf8);
            if (_byHash.TryGetValue(hash, out var names))
                foreach (var (bytes, name) in names)
                    if (utf8.SequenceEqual(bytes))
                        return name;
            var text = Encoding.UTF8.GetString(utf8);
            if (_kept++ < MostKept)
            {
                if (names is null)
                    _byHash[hash] = names = [];
                names.Add((utf8.ToArray(), text));
            }
            return text;
        }

        static int HashCodeOf(ReadOnlySpan<byte> utf8)
        {
            var hash = new HashCode();
            hash.AddBytes(utf8);
            return hash.ToHashCode();
        }
    }
}
