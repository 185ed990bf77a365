using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// <see cref="Jcs"/> written straight as UTF-8 bytes, for the hash: the same bytes as the UTF-8 of <see cref="Jcs"/>'s
/// text, without building that text. What needs no work is copied as it was read: a string with no escape in it (it
/// holds no character RFC 8785 escapes, or the JSON would not have parsed), an integer of at most 15 digits, a member
/// name of plain ASCII. Anything else goes through <see cref="Jcs"/> itself.
/// </summary>
public static class JcsUtf8
{
    static readonly SearchValues<byte> NeedsText = SearchValues.Create("\\"u8);

    /// <summary>Appends the canonical form of <paramref name="json"/> to <paramref name="output"/>.</summary>
    public static void Write(string json, ArrayBufferWriter<byte> output, bool exact)
    {
        using var document = JsonDocument.Parse(json);
        Write(document.RootElement, output, exact);
    }

    /// <summary>
    /// Appends the canonical form of the UTF-8 JSON <paramref name="json"/> to <paramref name="output"/>: in one pass of
    /// a <see cref="Utf8JsonReader"/> when every name is plain ASCII, no string holds an escape and every number is
    /// already in its canonical form (what the orchestrator stores); else through a <see cref="JsonDocument"/>.
    /// </summary>
    public static void Write(ReadOnlyMemory<byte> json, ArrayBufferWriter<byte> output, bool exact, bool skipChainHeaders = false)
    {
        var fast = _fast ??= new ArrayBufferWriter<byte>(4096);
        fast.ResetWrittenCount();
        if (TryWritePlain(json.Span, fast, skipChainHeaders))
        {
            output.Write(fast.WrittenSpan);
            return;
        }
        using var document = JsonDocument.Parse(json);
        if (skipChainHeaders && document.RootElement.ValueKind == JsonValueKind.Object)
            WriteObject(document.RootElement, output, exact, skipChainHeaders: true);
        else
            Write(document.RootElement, output, exact);
    }

    [ThreadStatic]
    static ArrayBufferWriter<byte>? _fast;

    /// <summary>One member of an object being sorted: where its name and its value lie in the text.</summary>
    readonly record struct Member(int NameStart, int NameLength, int ValueStart, int ValueEnd, bool Nested);

    /// <summary>
    /// The one-pass canonical form, or false (with part of it written) when the text holds anything the copy of its
    /// bytes would not render exactly: an escape, a name outside plain ASCII, a number not already canonical. Malformed
    /// JSON is left to <see cref="JsonDocument"/>, which says what is wrong with it.
    /// </summary>
    static bool TryWritePlain(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output, bool skipChainHeaders)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || !TryWritePlainValue(ref reader, json, output, skipChainHeaders))
                return false;
            // Nothing may follow the value (JsonDocument refuses trailing content too).
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The value at the reader's current token; the reader ends on its last token.</summary>
    static bool TryWritePlainValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output, bool skipChainHeaders)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return TryWritePlainObject(ref reader, json, output, skipChainHeaders);
            case JsonTokenType.StartArray:
                output.Write("["u8);
                var first = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (!first)
                        output.Write(","u8);
                    first = false;
                    if (!TryWritePlainValue(ref reader, json, output, skipChainHeaders: false))
                        return false;
                }
                output.Write("]"u8);
                return true;
            case JsonTokenType.String:
                if (reader.ValueIsEscaped)
                    return false;
                WriteQuoted(reader.ValueSpan, output);
                return true;
            case JsonTokenType.Number:
                var number = reader.ValueSpan;
                if (!IsShortInteger(number) && !IsCanonicalDecimal(number))
                    return false;
                output.Write(number);
                return true;
            case JsonTokenType.True:
                output.Write("true"u8);
                return true;
            case JsonTokenType.False:
                output.Write("false"u8);
                return true;
            case JsonTokenType.Null:
                output.Write("null"u8);
                return true;
            default:
                return false;
        }
    }

    static bool TryWritePlainObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output, bool skipChainHeaders)
    {
        // The members of the objects being written, nested ones after their parent's, in one array per thread.
        var pool = _members ??= new Member[64];
        var first = _membersUsed;
        var members = pool.AsSpan(first);
        try
        {
            var n = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // A name read with no escape holds no quote, backslash or control (the JSON would not have parsed), so
                // ASCII is all it takes for its bytes to be its RFC 8785 form, in UTF-16 order.
                if (reader.ValueIsEscaped || !Ascii.IsValid(reader.ValueSpan))
                    return false;
                var nameStart = (int)reader.TokenStartIndex + 1;
                var nameLength = reader.ValueSpan.Length;
                reader.Read();
                var valueStart = (int)reader.TokenStartIndex;
                // A primitive is checked here and copied as it is below; only an object or an array is read again.
                var nested = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray;
                if (nested)
                    reader.Skip();
                else if (reader.TokenType == JsonTokenType.String ? reader.ValueIsEscaped
                         : reader.TokenType == JsonTokenType.Number && !IsShortInteger(reader.ValueSpan) && !IsCanonicalDecimal(reader.ValueSpan))
                    return false;
                var member = new Member(nameStart, nameLength, valueStart, (int)reader.BytesConsumed, nested);
                var name = json.Slice(nameStart, nameLength);
                if (skipChainHeaders && IsChainHeader(name))
                    continue;
                if (n == members.Length)
                {
                    // A parent reads its members only from its own span, filled before any child object is written,
                    // so a larger array for this object and its children leaves the parents' intact.
                    var grown = new Member[Math.Max(pool.Length * 2, first + n + 16)];
                    members[..n].CopyTo(grown.AsSpan(first));
                    _members = pool = grown;
                    members = grown.AsSpan(first);
                }
                // Insertion by name: byte order is UTF-16 order for ASCII; a stored object's names come sorted by
                // length, then bytes, so few move.
                var at = n++;
                _membersUsed = first + n;
                while (at > 0 && json.Slice(members[at - 1].NameStart, members[at - 1].NameLength).SequenceCompareTo(name) > 0)
                {
                    members[at] = members[at - 1];
                    at--;
                }
                members[at] = member;
            }
            output.Write("{"u8);
            for (var i = 0; i < n; i++)
            {
                var member = members[i];
                WriteQuoted(json.Slice(member.NameStart, member.NameLength), output);
                output.Write(":"u8);
                var value = json[member.ValueStart..member.ValueEnd];
                if (!member.Nested)
                    output.Write(value);
                else
                {
                    var inner = new Utf8JsonReader(value);
                    if (!inner.Read() || !TryWritePlainValue(ref inner, value, output, skipChainHeaders: false))
                        return false;
                }
                if (i < n - 1)
                    output.Write(","u8);
            }
            output.Write("}"u8);
            return true;
        }
        finally
        {
            _membersUsed = first;
        }
    }

    [ThreadStatic]
    static Member[]? _members;

    [ThreadStatic]
    static int _membersUsed;

    public static void Write(JsonElement element, ArrayBufferWriter<byte> output, bool exact)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output, exact, skipChainHeaders: false);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                        output.Write(","u8);
                    first = false;
                    Write(item, output, exact);
                }
                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(element);
                // The raw value includes its quotes.
                if (!raw.ContainsAny(NeedsText))
                    output.Write(raw);
                else
                    WriteEscaped(element.GetString()!, output);
                break;
            case JsonValueKind.Number:
                var number = JsonMarshal.GetRawUtf8Value(element);
                if (IsShortInteger(number) || IsCanonicalDecimal(number))
                    output.Write(number);
                else
                    WriteNumberText(element, output, exact);
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            default:
                output.Write("null"u8);
                break;
        }
    }

    /// <summary>
    /// An object's members sorted by name, without the chain's own headers (<c>hash</c> and <c>previous-hash</c>) when
    /// <paramref name="skipChainHeaders"/>. Names of plain ASCII with no escape (every name the orchestrator writes) are
    /// compared and copied as the bytes that were read, with no string made: their byte order is their UTF-16 order.
    /// </summary>
    public static void WriteObject(JsonElement element, ArrayBufferWriter<byte> output, bool exact, bool skipChainHeaders)
    {
        var count = element.GetPropertyCount();
        var members = ArrayPool<JsonProperty>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var n = 0;
            foreach (var member in element.EnumerateObject())
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(member);
                if (!PlainAsciiName(name))
                {
                    WriteObjectByName(element, output, exact, skipChainHeaders);
                    return;
                }
                if (skipChainHeaders && IsChainHeader(name))
                    continue;
                // Insertion: objects are small, and a stored object's names come sorted by length then bytes.
                var at = n++;
                while (at > 0 && JsonMarshal.GetRawUtf8PropertyName(members[at - 1]).SequenceCompareTo(name) > 0)
                {
                    members[at] = members[at - 1];
                    at--;
                }
                members[at] = member;
            }
            output.Write("{"u8);
            for (var i = 0; i < n; i++)
            {
                WriteQuoted(JsonMarshal.GetRawUtf8PropertyName(members[i]), output);
                output.Write(":"u8);
                Write(members[i].Value, output, exact);
                if (i < n - 1)
                    output.Write(","u8);
            }
            output.Write("}"u8);
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(members, clearArray: true);
        }
    }

    /// <summary>The chain's own headers (<c>hash</c>, <c>previous-hash</c>), by a name as read with no escape.</summary>
    static bool IsChainHeader(ReadOnlySpan<byte> name) => name.SequenceEqual("hash"u8) || name.SequenceEqual("previous-hash"u8);

    /// <summary>Text that needs no escape, between quotes.</summary>
    static void WriteQuoted(ReadOnlySpan<byte> text, ArrayBufferWriter<byte> output)
    {
        var span = output.GetSpan(text.Length + 2);
        span[0] = (byte)'"';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'"';
        output.Advance(text.Length + 2);
    }

    /// <summary>Printable ASCII with no quote or backslash: the name as read is its RFC 8785 form, and needs no string.</summary>
    static bool PlainAsciiName(ReadOnlySpan<byte> name) => name.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) < 0 && !name.ContainsAny(QuoteOrBackslash);

    static readonly SearchValues<byte> QuoteOrBackslash = SearchValues.Create("\"\\"u8);

    /// <summary>The general case: every name made a .NET string (escapes undone) and sorted by UTF-16 code units.</summary>
    static void WriteObjectByName(JsonElement element, ArrayBufferWriter<byte> output, bool exact, bool skipChainHeaders)
    {
        var members = new List<(JsonProperty Member, string Name)>();
        foreach (var member in element.EnumerateObject())
        {
            var name = member.Name;
            if (skipChainHeaders && name is (HashChain.HashHeader or HashChain.PreviousHashHeader))
                continue;
            members.Add((member, name));
        }
        // Ordinal order of .NET strings is the UTF-16 code unit order RFC 8785 asks for.
        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        output.Write("{"u8);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
                output.Write(","u8);
            WriteString(members[i].Name, output);
            output.Write(":"u8);
            Write(members[i].Member.Value, output, exact);
        }
        output.Write("}"u8);
    }

    /// <summary>A string as <see cref="Jcs.WriteString"/> writes it; printable ASCII with no quote or backslash is copied.</summary>
    public static void WriteString(string value, ArrayBufferWriter<byte> output)
    {
        if (!PlainAscii(value))
        {
            WriteEscaped(value, output);
            return;
        }
        var span = output.GetSpan(value.Length + 2);
        span[0] = (byte)'"';
        Encoding.ASCII.GetBytes(value, span[1..]);
        span[value.Length + 1] = (byte)'"';
        output.Advance(value.Length + 2);
    }

    /// <summary>
    /// <see cref="WriteString(string, ArrayBufferWriter{byte})"/> of the text of the UTF-8 <paramref name="utf8"/>: copied
    /// as it is when it is printable ASCII with no quote or backslash, else decoded and written as text.
    /// </summary>
    public static void WriteString(ReadOnlySpan<byte> utf8, ArrayBufferWriter<byte> output)
    {
        if (PlainAsciiName(utf8))
            WriteQuoted(utf8, output);
        else
            WriteString(Encoding.UTF8.GetString(utf8), output);
    }

    // Apart from its caller: a lambda's captured parameter is allocated on entry to the method that holds it, even where
    // the lambda is never made (every plain string paid for it).
    static void WriteEscaped(string value, ArrayBufferWriter<byte> output) => WriteText(b => Jcs.WriteString(value, b), output);

    static void WriteNumberText(JsonElement element, ArrayBufferWriter<byte> output, bool exact) => WriteText(b => Jcs.Write(element, b, exact), output);

    static readonly SearchValues<char> NotPlain = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), '"', '\\']);

    static bool PlainAscii(string value) => Ascii.IsValid(value) && value.AsSpan().IndexOfAny(NotPlain) < 0;

    /// <summary>Appends the UTF-8 of text <see cref="Jcs"/> writes (a lone surrogate becomes U+FFFD, as in Encoding.UTF8).</summary>
    public static void WriteText(Action<StringBuilder> write, ArrayBufferWriter<byte> output)
    {
        var builder = new StringBuilder();
        write(builder);
        var text = builder.ToString();
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>
    /// A plain decimal with a fraction (<c>-?(0|[1-9][0-9]*)\.[0-9]*[1-9]</c>) that is already the shortest text of its
    /// double: .NET's round-trip form of it is the same bytes (it writes plain notation from 1e-5 to 1e15, where
    /// ECMAScript does too, with the same shortest digits). System.Text.Json writes doubles so.
    /// </summary>
    static bool IsCanonicalDecimal(ReadOnlySpan<byte> text)
    {
        var body = text.Length > 0 && text[0] == (byte)'-' ? text[1..] : text;
        var point = body.IndexOf((byte)'.');
        if (point <= 0 || point == body.Length - 1 || body.Length > 24 || body[^1] == (byte)'0'
            || (body[0] == (byte)'0' && point != 1)
            || body[..point].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
            || body[(point + 1)..].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            return false;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value == 0)
            return false;
        Span<byte> shortest = stackalloc byte[32];
        return value.TryFormat(shortest, out var written, "R", CultureInfo.InvariantCulture) && shortest[..written].SequenceEqual(text);
    }

    /// <summary>At most 15 digits, an optional minus, no leading zero: a double holds it exactly and ECMAScript writes it as it is.</summary>
    static bool IsShortInteger(ReadOnlySpan<byte> text)
    {
        var digits = text.Length > 0 && text[0] == (byte)'-' ? text[1..] : text;
        if (digits.Length is 0 or > 15 || (digits[0] == (byte)'0' && (digits.Length > 1 || text.Length > 1)))
            return false;
        return digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;
    }
}
