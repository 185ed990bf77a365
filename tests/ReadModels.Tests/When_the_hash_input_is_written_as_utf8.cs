using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The hash of version 2 is computed from RFC 8785 bytes written straight from the parsed JSON (<see cref="JcsUtf8"/>),
/// not from <see cref="HashChain.InputV2"/>'s text: both must give the same bytes for any stored value, or an event
/// written by one and verified by the other would read as tampered.
/// </summary>
public sealed class When_the_hash_input_is_written_as_utf8
{
    public static TheoryData<string> Vectors() => ["arrays", "french", "structures", "unicode", "values", "weird"];

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Should_write_the_bytes_of_the_official_test_vector(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "jcs");
        var input = File.ReadAllText(Path.Combine(directory, "input", name + ".json"), Encoding.UTF8);
        var output = new ArrayBufferWriter<byte>();

        JcsUtf8.Write(input, output, exact: false);
        var fromUtf8 = new ArrayBufferWriter<byte>();
        JcsUtf8.Write(Encoding.UTF8.GetBytes(input), fromUtf8, exact: false);

        var expected = File.ReadAllBytes(Path.Combine(directory, "output", name + ".json"));
        output.WrittenSpan.ToArray().ShouldBe(expected);
        fromUtf8.WrittenSpan.ToArray().ShouldBe(expected, "read as UTF-8, as verify reads a row");
    }

    [Theory]
    // As PostgreSQL writes jsonb: names by length then bytes, ", " and ": " between them.
    [InlineData("""{"vmId": "vm-1", "round": 3, "reason": null, "source": "host-1", "bytesSent": 734003200, "migrationId": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "dirtyRateMiBps": 112.5, "policy": {"maxRounds": 30, "allowPostCopy": true, "bandwidthMiBps": 1024}, "hosts": ["a", "b", {"z": 1, "a": [0.1, -2, false]}], "ok": true}""")]
    // What the one-pass form leaves to the general one: escapes, names outside ASCII, numbers not in canonical form.
    [InlineData("""{"reason": "a \"quoted\" reason", "b": 1}""")]
    [InlineData("""{"é": 1, "e": 2}""")]
    [InlineData("""{"n": 1.50, "m": 1e3, "k": 12345678901234567890}""")]
    [InlineData("""{"a": {"b\u0041": 1}}""")]
    [InlineData("""[{"b": 1, "a": 2}, {}, [], "", 0]""")]
    [InlineData("""  {"spaced" :  [ 1 , 2 ] }  """)]
    public void Should_write_the_same_bytes_from_utf8_as_from_text(string json)
    {
        var fromText = new ArrayBufferWriter<byte>();
        JcsUtf8.Write(json, fromText, exact: false);
        var fromUtf8 = new ArrayBufferWriter<byte>();

        JcsUtf8.Write(Encoding.UTF8.GetBytes(json), fromUtf8, exact: false);

        Encoding.UTF8.GetString(fromUtf8.WrittenSpan).ShouldBe(Encoding.UTF8.GetString(fromText.WrittenSpan));
    }

    [Fact]
    public void Should_write_the_same_bytes_for_objects_larger_than_the_members_kept_at_hand()
    {
        // 100 members in reverse order, a nested object of 70 among them, itself holding one of 40: the per-thread
        // member array grows while a parent's members are still to be written.
        static string Object(int count, string prefix, string? nested) => "{" + string.Join(", ", Enumerable.Range(0, count).Reverse()
            .Select(i => $"\"{prefix}{i:D3}\": " + (i == count / 2 && nested is not null ? nested : i.ToString()))) + "}";
        var json = Object(100, "m", Object(70, "n", Object(40, "o", null)));
        var fromText = new ArrayBufferWriter<byte>();
        JcsUtf8.Write(json, fromText, exact: true);
        var fromUtf8 = new ArrayBufferWriter<byte>();

        JcsUtf8.Write(Encoding.UTF8.GetBytes(json), fromUtf8, exact: true);
        JcsUtf8.Write(Encoding.UTF8.GetBytes(json), fromUtf8, exact: true);

        Encoding.UTF8.GetString(fromUtf8.WrittenSpan).ShouldBe(Encoding.UTF8.GetString(fromText.WrittenSpan) + Encoding.UTF8.GetString(fromText.WrittenSpan));
    }

    [Theory]
    [InlineData("""{"a": 1} {"b": 2}""")]
    [InlineData("""{"a": 1""")]
    [InlineData("""{"a": 1,}""")]
    [InlineData("""{"a": 1} // note""")]
    public void Should_refuse_what_is_not_one_json_value_from_utf8_too(string json)
    {
        Should.Throw<JsonException>(() => JcsUtf8.Write(Encoding.UTF8.GetBytes(json), new ArrayBufferWriter<byte>(), exact: true),
            customMessage: "as JsonDocument refuses it from text");
    }

    [Theory]
    // Escapes of every kind, in values and in names, a surrogate pair among them.
    [InlineData("""{"b":"tab\there \"quoted\" back\\slash \u0001 \u001f \/ \u00e9 \ud83d\ude00","a\u0000b":1}""")]
    // Names outside ASCII: UTF-16 order puts U+FB01 after U+1F600 (a surrogate pair, 0xD83D…), code point order would not.
    [InlineData("""{"\ufb01":1,"😀":2,"é":3,"z":4,"Z":5}""")]
    // Numbers: short integers copied, the rest as ECMAScript writes a double.
    [InlineData("""{"n":[0,-0,1e3,1E-7,0.1,-12,123456789012345,1234567890123456,5e-324,1.5]}""")]
    // Decimals: the shortest text of its double is copied; any other text of the same value is rewritten.
    [InlineData("""[0.1,123.456789,-0.000123,0.000001,0.0000015,1.50,0.30000000000000004,99999999999999.9,999999999999999.9]""")]
    [InlineData("""[true,false,null,{"x":{"y":[]}},"",[[]]]""")]
    // Plain ASCII names, more than a handful, in stored (length, then byte) order: sorted by code unit, '_' and capitals too.
    [InlineData("""{"a":1,"b":2,"Z":3,"_":4,"aa":5,"ab":6,"aZ":7,"a_":8,"vmId":9,"zzzz":10,"bytes":11,"AAAAA":12,"round":13,"target":14,"nested":{"y":1,"x":[{"b":1,"a":2}]}}""")]
    // One escaped name among plain ones: the whole object is sorted by its names' values.
    [InlineData("""{"b":1,"\u0061":2,"c":3}""")]
    [InlineData("\"just a string\"")]
    public void Should_give_the_hash_of_the_text_form(string data)
    {
        var e = Event(data, """{"hash":"h","previous-hash":"p","hash-version":2,"principal":"ops \"night\" é","x\ud83d\ude00":[1.50,2]}""",
            correlation: "corr\"elation", causation: null);

        HashChain.ComputeV2("0123", e).ShouldBe(TextHash("0123", e));
        HashChain.ComputeV2("0123", Utf8(e)).ShouldBe(TextHash("0123", e), "read as UTF-8, as verify reads a row");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("[1,2]")]
    [InlineData("{}")]
    [InlineData("{\"hash\":\"only the chain\"}")]
    // The chain's own headers named with escapes are still the chain's own: left out, as the text form leaves them out.
    [InlineData("{\"has\\u0068\":\"h\",\"previous\\u002dhash\":\"p\",\"principal\":\"ops\"}")]
    [InlineData("{\"hash-version\":2,\"principal\":\"ops\",\"hash\":\"h\",\"previous-hash\":\"p\",\"Hash\":\"kept\"}")]
    public void Should_give_the_hash_of_the_text_form_whatever_the_headers(string? headers)
    {
        var e = Event("""{"vmId":"vm-1","bytes":1073741824}""", headers, correlation: null, causation: "c-1");

        HashChain.ComputeV2(HashChain.Genesis, e).ShouldBe(TextHash(HashChain.Genesis, e));
        HashChain.ComputeV2(HashChain.Genesis, Utf8(e)).ShouldBe(TextHash(HashChain.Genesis, e), "read as UTF-8, as verify reads a row");
    }

    [Theory]
    [InlineData("plain-1", null)]
    [InlineData("quoted \"id\"", "back\\slash")]
    [InlineData("é ü 😀", "tab\there")]
    [InlineData("", "\u0001 control")]
    [InlineData("del \u007f", "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")]
    public void Should_give_the_hash_of_the_text_form_whatever_the_ids(string correlation, string? causation)
    {
        var e = Event("{}", null, correlation, causation);

        HashChain.ComputeV2(HashChain.Genesis, Utf8(e)).ShouldBe(TextHash(HashChain.Genesis, e), "the ids read as UTF-8, as verify reads a row");
        Utf8(e).CorrelationId.ShouldBe(correlation);
        Utf8(e).CausationId.ShouldBe(causation);
    }

    [Fact]
    public void Should_refuse_an_inexact_number_as_the_text_form_does()
    {
        var e = Event("""{"n":4294967296.0000001}""", null, null, null);

        Should.Throw<InexactNumberException>(() => HashChain.ComputeV2(HashChain.Genesis, e));
        Should.Throw<InexactNumberException>(() => HashChain.ComputeV2(HashChain.Genesis, Utf8(e)));
        Should.Throw<InexactNumberException>(() => HashChain.InputV2(HashChain.Genesis, e));
    }

    static StoredEvent Event(string data, string? headers, string? correlation, string? causation) =>
        new(7, Guid.Parse("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"), 3, "pre_copy_round_completed",
            new DateTimeOffset(2026, 12, 5, 16, 30, 1, 123, TimeSpan.Zero).AddTicks(4560), correlation, causation, true, headers, data);

    /// <summary>The same row as verify's reader gives it: headers, data, correlation and causation ids as UTF-8.</summary>
    static StoredEvent Utf8(StoredEvent e) => StoredEvent.FromUtf8Row(e.Sequence, e.StreamId, e.Version, e.Type, e.Timestamp, Bytes(e.CorrelationId),
        Bytes(e.CausationId), e.IsArchived, Bytes(e.HeadersJson), Encoding.UTF8.GetBytes(e.DataJson));

    // Typed: a null array would convert to an empty memory, not to null.
    static ReadOnlyMemory<byte>? Bytes(string? text) => text is null ? null : (ReadOnlyMemory<byte>?)Encoding.UTF8.GetBytes(text);

    static string TextHash(string previous, StoredEvent e) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(HashChain.InputV2(previous, e))));
}
