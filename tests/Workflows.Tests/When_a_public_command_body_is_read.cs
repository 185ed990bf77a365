using System.Text;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Workflows.Tests;

/// <summary>The AMQP intake reads a body by the HTTP API's rules, so both transports take and refuse the same bodies.</summary>
public sealed class When_a_public_command_body_is_read
{
    static readonly PublicCommandBody Filter = new(typeof(StartMigration));

    const string Start = """{"migrationId":"6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11","vmId":"vm-42","sourceHost":"host-a","targetHost":"host-b","hypervisor":"sim"}""";

    static string? Problem(string? contentType, string body) => Filter.Problem(contentType, new BytesMessageBody(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Should_take_a_plain_json_body() => Problem(PublicCommandBody.PlainJson, Start).ShouldBeNull();

    [Theory]
    [InlineData(""","schemaVersion":1}""")]
    [InlineData("}")]
    public void Should_take_schema_version_1_or_none(string tail) =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + tail).ShouldBeNull();

    [Fact]
    public void Should_refuse_a_schema_version_this_release_does_not_read_before_its_new_members() =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + ""","schemaVersion":2,"placementHint":"rack-7"}""")
            .ShouldBe("SchemaVersion 2 of StartMigration is not supported: this orchestrator reads version 1 only. "
                + "Send schemaVersion 1 (or leave it out), as docs/asyncapi.json describes.");

    [Fact]
    public void Should_refuse_a_schema_version_in_an_envelope_with_the_same_words() =>
        Problem(PublicCommandBody.Envelope, $$$"""{"messageType":["urn:message:Orchestrator.Contracts:StartMigration"],"message":{{{Start.TrimEnd('}')}}},"schemaVersion":3}}""")
            .ShouldNotBeNull().ShouldStartWith("SchemaVersion 3 of StartMigration is not supported");

    [Fact]
    public void Should_take_a_masstransit_envelope() =>
        Problem(PublicCommandBody.Envelope, $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:Orchestrator.Contracts:StartMigration"],"message":{{Start}}}""")
            .ShouldBeNull();

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/octet-stream")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public void Should_refuse_a_body_that_is_not_said_to_be_json(string? contentType) =>
        Problem(contentType, Start).ShouldNotBeNull().ShouldContain("is not accepted: send application/json");

    [Fact]
    public void Should_refuse_a_top_level_member_the_command_does_not_have() =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + ""","maxDowntimeMs":200}""")
            .ShouldNotBeNull().ShouldContain("maxDowntimeMs");

    [Fact]
    public void Should_refuse_a_number_written_as_a_string() =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + ""","policy":{"maxDowntimeMs":"300"}}""")
            .ShouldNotBeNull().ShouldContain("maxDowntimeMs");

    /// <summary>Issue 17: the member by its JSON path and the rule, in the words the HTTP API uses too; never .NET type names.</summary>
    [Theory]
    [InlineData(""","colour":"blue"}""", "'colour' is not a member of StartMigration. A member the command does not have is refused, not ignored.")]
    [InlineData(""","maxDowntimeMs":200}""",
        "'maxDowntimeMs' is not a member of StartMigration; it belongs in 'policy.maxDowntimeMs'. A member the command does not have is refused, not ignored.")]
    [InlineData(""","policy":{"vmId":"x"}}""",
        "'vmId' is not a member of StartMigration.policy; it belongs in 'vmId'. A member the command does not have is refused, not ignored.")]
    [InlineData(""","vmId":"vm-43"}""", "'vmId' appears more than once; each member may appear once.")]
    [InlineData(""","policy":"fast"}""", "'policy' must be an object.")]
    [InlineData(""","policy":{"allowPostCopy":"yes"}}""", "'policy.allowPostCopy' must be true or false.")]
    [InlineData(""","vmLabels":{"tier":1}}""", "'vmLabels.tier' must be a string.")]
    [InlineData(""","vmLabels":[]}""", "'vmLabels' must be an object whose values are each a string.")]
    public void Should_name_the_member_and_the_rule(string tail, string reason) =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + tail).ShouldBe($"The body cannot be read as StartMigration: {reason}");

    [Fact]
    public void Should_name_the_member_of_a_wrong_type() =>
        Problem(PublicCommandBody.PlainJson, Start.Replace("\"vm-42\"", "42", StringComparison.Ordinal))
            .ShouldBe("The body cannot be read as StartMigration: 'vmId' must be a string.");

    [Fact]
    public void Should_refuse_a_body_over_64_kib()
    {
        var body = Start.TrimEnd('}') + $$""","requestedBy":"{{new string('r', 200_000)}}"}""";

        Problem(PublicCommandBody.PlainJson, body).ShouldBe($"The body is {Encoding.UTF8.GetByteCount(body)} bytes; at most 65536 are accepted.");
    }

    [Fact]
    public void Should_refuse_a_body_that_is_not_an_object() =>
        Problem(PublicCommandBody.PlainJson, "[1,2]").ShouldBe("The body cannot be read as StartMigration: it must be a JSON object, the command's members by name.");

    [Fact]
    public void Should_never_echo_a_long_member_name_whole() =>
        Problem(PublicCommandBody.PlainJson, Start.TrimEnd('}') + $$""","{{new string('m', 60_000)}}":1}""")!.Length.ShouldBeLessThan(1000);
}
