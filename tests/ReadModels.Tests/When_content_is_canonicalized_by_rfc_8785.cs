using System.Globalization;
using System.Text;
using Orchestrator.ReadModels.Audit;

namespace Orchestrator.ReadModels.Tests;

/// <summary>
/// The hash of version 2 is taken over RFC 8785 (JCS) text, so that anyone's JCS implementation gives the same bytes.
/// Fixtures/jcs holds test vectors of the RFC's author (github.com/cyberphone/json-canonicalization, testdata/, Apache 2.0).
/// </summary>
public sealed class When_content_is_canonicalized_by_rfc_8785
{
    public static TheoryData<string> Vectors() => ["arrays", "french", "structures", "unicode", "values", "weird"];

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Should_give_the_bytes_of_the_official_test_vector(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "jcs");
        var input = File.ReadAllText(Path.Combine(directory, "input", name + ".json"), Encoding.UTF8);
        var expected = File.ReadAllBytes(Path.Combine(directory, "output", name + ".json"));

        Encoding.UTF8.GetBytes(Jcs.Of(input)).ShouldBe(expected);
    }

    /// <summary>RFC 8785, appendix B: IEEE 754 doubles (as hex) and the text ECMAScript gives them.</summary>
    [Theory]
    [InlineData("0000000000000000", "0")]
    [InlineData("8000000000000000", "0")]
    [InlineData("0000000000000001", "5e-324")]
    [InlineData("8000000000000001", "-5e-324")]
    [InlineData("7fefffffffffffff", "1.7976931348623157e+308")]
    [InlineData("ffefffffffffffff", "-1.7976931348623157e+308")]
    [InlineData("4340000000000000", "9007199254740992")]
    [InlineData("c340000000000000", "-9007199254740992")]
    [InlineData("4430000000000000", "295147905179352830000")]
    [InlineData("44b52d02c7e14af5", "9.999999999999997e+22")]
    [InlineData("44b52d02c7e14af6", "1e+23")]
    [InlineData("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [InlineData("444b1ae4d6e2ef4e", "999999999999999700000")]
    [InlineData("444b1ae4d6e2ef4f", "999999999999999900000")]
    [InlineData("444b1ae4d6e2ef50", "1e+21")]
    [InlineData("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [InlineData("3eb0c6f7a0b5ed8d", "0.000001")]
    [InlineData("41b3de4355555553", "333333333.3333332")]
    [InlineData("41b3de4355555554", "333333333.33333325")]
    [InlineData("41b3de4355555555", "333333333.3333333")]
    [InlineData("41b3de4355555556", "333333333.3333334")]
    [InlineData("41b3de4355555557", "333333333.33333343")]
    [InlineData("becbf647612f3696", "-0.0000033333333333333333")]
    [InlineData("43143ff3c1cb0959", "1424953923781206.2")]
    public void Should_write_numbers_as_ecmascript_does(string bits, string expected) =>
        EcmaNumber.Format(BitConverter.Int64BitsToDouble(long.Parse(bits, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ShouldBe(expected);

    [Fact]
    public void Should_escape_only_what_json_requires() =>
        Jcs.Of("\"+ < > & ' \\u002B \\u00e9 \\u0001 \\u001f \\/\"").ShouldBe("\"+ < > & ' + é \\u0001 \\u001f /\"");

    [Theory]
    [InlineData("4294967296.0000001")]
    [InlineData("9007199254740993")]
    [InlineData("9999999999999999")]
    [InlineData("1e400")]
    public void Should_refuse_a_number_a_double_cannot_hold_exactly_when_asked(string number) =>
        Should.Throw<Exception>(() => Jcs.Of($"{{\"n\":{number}}}", exact: true));

    [Theory]
    [InlineData("4294967296", "4294967296")]
    [InlineData("0", "0")]
    [InlineData("-7", "-7")]
    [InlineData("999999999999999", "999999999999999")]
    [InlineData("100000000000000000000", "100000000000000000000")]
    [InlineData("1000000000000000000000", "1e+21")]
    [InlineData("4.50", "4.5")]
    [InlineData("1E+30", "1e+30")]
    [InlineData("1000000000000000000000000000000", "1e+30")]
    [InlineData("-0", "0")]
    [InlineData("115.33333333333333", "115.33333333333333")]
    public void Should_accept_every_text_of_a_value_a_double_holds(string number, string canonical) =>
        Jcs.Of($"{{\"n\":{number}}}", exact: true).ShouldBe($"{{\"n\":{canonical}}}");

    /// <summary>docs/audit.md's worked example, byte for byte: the specification and the code say the same.</summary>
    [Fact]
    public void Should_give_the_worked_example_of_the_specification()
    {
        var e = new StoredEvent(42, Guid.Parse("6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11"), 2, "migration_admitted",
            DateTimeOffset.Parse("2026-11-24T09:00:00.250000Z", CultureInfo.InvariantCulture), "6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11",
            "0b7a0000-1c2d-4e5f-8a9b-0c1d2e3f4a5b", false,
            """{"hash": "x", "principal": "ops+night <on-call>", "hash-version": 2, "message-type": "urn:message:Orchestrator.Contracts:StartMigration", "previous-hash": "y"}""",
            """{"Epoch": 1, "Timestamp": "2026-11-24T09:00:00.25+00:00", "MigrationId": "6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11"}""");
        const string previous = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

        var input = HashChain.InputV2(previous, e);

        Encoding.UTF8.GetByteCount(input).ShouldBe(585);
        input.ShouldStartWith("""{"archived":false,"causationId":"0b7a0000-1c2d-4e5f-8a9b-0c1d2e3f4a5b","correlationId":""");
        input.ShouldContain(""""headers":{"hash-version":2,"message-type":"urn:message:Orchestrator.Contracts:StartMigration","principal":"ops+night <on-call>"},"""");
        HashChain.ComputeV2(previous, e).ShouldBe("75eaa90e959d0bd82a3884de43737b2ac058cefef260c6a4765566c60ceb7b56");
    }
}
