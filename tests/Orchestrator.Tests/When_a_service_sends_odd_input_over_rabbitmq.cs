using System.Net;
using System.Text;
using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 14's AMQP reproductions, as another team's service would send them (plain RabbitMQ.Client, plain JSON): none
/// stops the intake or loses a command; each bad one is rejected with the rule, or set aside in the _error queue with
/// the reason. Issue 17: the same bad bodies get the same reasons, word for word, over AMQP and HTTP.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_a_service_sends_odd_input_over_rabbitmq(RabbitMqOrchestrator orchestrator)
{
    const string ErrorQueue = QueueNames.StartMigration + "_error";

    static string StartBody(Guid id, string vmId, string source = "e2e-a", string target = "e2e-b", string? requestedBy = "placement-service") =>
        JsonSerializer.Serialize(new { migrationId = id, vmId, sourceHost = source, targetHost = target, hypervisor = HypervisorKinds.Sim, requestedBy });

    [Fact]
    public async Task Should_keep_the_intake_consuming_after_a_200_kb_requested_by()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var oversized = Guid.NewGuid();
        var good = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(oversized, "vm-odd-huge", requestedBy: new string('r', 200_000)));
        await client.Publish(QueueNames.StartMigration, StartBody(good, "vm-odd-after-huge"));

        (await orchestrator.WaitForEnd(good))!.State.ShouldBe(MigrationStates.Completed);
        (await client.ConsumerCount(QueueNames.StartMigration)).ShouldBeGreaterThan(0u);
        var faults = await TakeFaults(client, oversized);
        faults.ShouldHaveSingleItem().ShouldNotBeNull().ShouldMatch(@"^The body is 2\d{5} bytes; at most 65536 are accepted\.$");
    }

    [Theory]
    [InlineData("host b")]
    [InlineData("hôst-b")]
    [InlineData("host-a/../x")]
    [InlineData("e2e-b#evil")]
    [InlineData("e2e-b?evil")]
    [InlineData("e2e-a ")]
    public async Task Should_reject_a_target_that_is_not_a_name_before_any_worker_hears_of_it(string target)
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, $"vm-odd-{Guid.NewGuid():N}"[..20], target: target));

        var summary = await orchestrator.WaitForEnd(id);
        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.InvalidCommand);
        summary.Reason.ShouldNotBeNull().ShouldContain($"TargetHost '{target}' is not a valid name: a name is 1–63 characters");
        await using var session = orchestrator.Store.QuerySession();
        (await session.History(id)).Select(e => e.Data.GetType()).ShouldBe([typeof(MigrationRejected), typeof(MigrationStateChanged)]);
    }

    [Fact]
    public async Task Should_reject_a_requested_by_under_the_body_limit_but_over_its_own_without_putting_it_in_a_header() =>
        await RejectsWith(StartBody(Guid.NewGuid(), "vm-odd-60k", requestedBy: new string('r', 60_000)),
            "RequestedBy is 60000 characters long; at most 256 are allowed.");

    [Fact]
    public async Task Should_reject_a_300_character_host_name() =>
        await RejectsWith(StartBody(Guid.NewGuid(), "vm-odd-300", source: new string('h', 300)), "(300 characters) is not a valid name");

    [Fact]
    public async Task Should_reject_a_vm_id_longer_than_an_index_key_may_be() =>
        await RejectsWith(StartBody(Guid.NewGuid(), new string('v', 3000)), "(3000 characters) is not a valid name");

    [Fact]
    public async Task Should_reject_a_nul_in_the_vm_id() =>
        await RejectsWith(StartBody(Guid.NewGuid(), "vm-odd-\0"), "VmId 'vm-odd-\\u0000' is not a valid name");

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/octet-stream")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task Should_set_aside_a_body_not_said_to_be_json(string? contentType)
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-odd-content"), contentType);

        (await TakeFaults(client, id)).ShouldHaveSingleItem().ShouldNotBeNull().ShouldContain("is not accepted: send application/json");
        (await orchestrator.Summary(id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_set_aside_a_schema_version_this_release_does_not_read_in_the_words_of_http()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-odd-v2").TrimEnd('}') + ""","schemaVersion":2,"placementHint":"rack-7"}""");

        (await TakeFaults(client, id)).ShouldHaveSingleItem().ShouldBe(
            "SchemaVersion 2 of StartMigration is not supported: this orchestrator reads version 1 only. "
            + "Send schemaVersion 1 (or leave it out), as docs/asyncapi.json describes.");
        (await orchestrator.Summary(id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_set_aside_a_top_level_member_the_command_does_not_have()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-odd-member").TrimEnd('}') + ""","maxDowntimeMs":200}""");

        (await TakeFaults(client, id)).ShouldHaveSingleItem().ShouldNotBeNull().ShouldContain("'maxDowntimeMs' is not a member of StartMigration; it belongs in 'policy.maxDowntimeMs'");
        (await orchestrator.Summary(id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_hold_a_masstransit_envelope_to_the_same_rules()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();
        var message = StartBody(id, "vm-odd-envelope").TrimEnd('}') + ""","maxDowntimeMs":200}""";

        await client.Publish(QueueNames.StartMigration,
            $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:Orchestrator.Contracts:StartMigration"],"message":{{message}}}""",
            "application/vnd.masstransit+json");

        (await TakeFaults(client, id)).ShouldHaveSingleItem().ShouldNotBeNull().ShouldContain("'maxDowntimeMs' is not a member of StartMigration; it belongs in 'policy.maxDowntimeMs'");
        (await orchestrator.Summary(id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_set_aside_a_number_written_as_a_string()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.StartMigration, StartBody(id, "vm-odd-number").TrimEnd('}') + ""","policy":{"maxDowntimeMs":"300"}}""");

        (await TakeFaults(client, id)).ShouldHaveSingleItem().ShouldNotBeNull().ShouldContain("'policy.maxDowntimeMs' must be a whole number, as a JSON number (not a string)");
        (await orchestrator.Summary(id)).ShouldBeNull();
    }

    [Fact]
    public async Task Should_refuse_a_cancel_whose_reason_holds_a_nul()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var refusals = await client.Subscribe("Orchestrator.Contracts:CommandRefused");
        var id = Guid.NewGuid();

        await client.Publish(QueueNames.CancelMigration, JsonSerializer.Serialize(new { migrationId = id, reason = "stop\0now", requestedBy = "ops" }));

        var refusal = await Eventually.Get(() => Task.FromResult(Snapshot(refusals)
                .Select(body => JsonDocument.Parse(body).RootElement.GetProperty("message"))
                .FirstOrDefault(m => m.GetProperty("migrationId").GetGuid() == id)), m => m.ValueKind == JsonValueKind.Object, "the refusal");
        refusal.GetProperty("command").GetString().ShouldBe("cancel");
        refusal.GetProperty("reason").GetString().ShouldStartWith("Reason holds a control character (U+0000) at position 4");
    }

    [Fact]
    public async Task Should_fail_a_drain_of_a_host_that_is_not_a_name_without_asking_any_worker()
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var drainId = Guid.NewGuid();

        await client.Publish(QueueNames.DrainHost, JsonSerializer.Serialize(new { drainId, host = "host\0c", hypervisor = HypervisorKinds.Sim, targets = new[] { "e2e-b" } }));

        var drain = await Eventually.Get(async () =>
        {
            await using var session = orchestrator.Store.QuerySession();
            return await DrainProgress.Load(session, drainId);
        }, d => d is { IsFinished: true }, "the drain to end");
        drain!.State.ShouldBe(DrainProgress.Failed);
        drain.Reason.ShouldBe($"Host 'host\\u0000c' is not a valid name: {Workflows.Intake.InputRules.NameRule}.");
        drain.Host.ShouldBe("host\uFFFDc");
    }

    /// <summary>
    /// Bodies that break one rule each, as a service would get them wrong. <c>{id}</c> is the migration's id, <c>{ok}</c> the
    /// members of a valid command without the closing brace.
    /// </summary>
    static readonly (string Case, string Body)[] BadBodies =
    [
        ("unknown member", """{ok},"colour":"blue"}"""),
        ("misplaced member", """{ok},"maxDowntimeMs":200}"""),
        ("unknown policy member", """{ok},"policy":{"maxDowntime":200}}"""),
        ("member twice", """{ok},"vmId":"vm-twice"}"""),
        ("wrong type", """{"migrationId":"{id}","vmId":42,"sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}"""),
        ("number as a string", """{ok},"policy":{"maxDowntimeMs":"300"}}"""),
        ("policy as a string", """{ok},"policy":"fast"}"""),
        ("label as a number", """{ok},"vmLabels":{"tier":1}}"""),
        ("not an object", """["{id}"]"""),
        ("not JSON", """{"migrationId":"{id}","vmId":"vm-x",}"""),
        ("missing vmId", """{"migrationId":"{id}","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}"""),
        ("NUL in vmId", """{"migrationId":"{id}","vmId":"vm-\u0000","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim"}"""),
        ("host too long", $$"""{"migrationId":"{id}","vmId":"vm-x","sourceHost":"{{new string('h', 300)}}","targetHost":"e2e-b","hypervisor":"sim"}"""),
        ("bad hypervisor", """{"migrationId":"{id}","vmId":"vm-x","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"vmware"}"""),
        ("bad strategy", """{ok},"strategy":"fastest"}"""),
        ("same hosts", """{"migrationId":"{id}","vmId":"vm-x","sourceHost":"e2e-a","targetHost":"e2e-a","hypervisor":"sim"}"""),
        ("negative downtime", """{ok},"policy":{"maxDowntimeMs":-5}}"""),
        ("label too long", $$$"""{ok},"vmLabels":{"tier":"{{{new string('t', 300)}}}"}}"""),
        ("body too large", $$$"""{ok},"vmLabels":{"tier":"{{{new string('t', 70_000)}}}"}}"""),
    ];

    [Fact]
    public async Task Should_refuse_the_same_bad_bodies_with_the_same_reasons_as_the_http_api()
    {
        await using var api = await ApiServer.StartAsync(orchestrator.Settings);
        using var http = api.Client(ApiRoles.Service);
        await using var client = await PlainAmqpClient.ConnectAsync();
        var cases = BadBodies.Select(bad =>
        {
            var id = Guid.NewGuid();
            var ok = JsonSerializer.Serialize(new { migrationId = id, vmId = $"vm-same-{id:N}"[..20], sourceHost = "e2e-a", targetHost = "e2e-b", hypervisor = "sim" })
                .TrimEnd('}');
            return (bad.Case, Id: id, Body: bad.Body.Replace("{ok}", ok, StringComparison.Ordinal).Replace("{id}", id.ToString(), StringComparison.Ordinal));
        }).ToList();

        var overHttp = new Dictionary<Guid, string>();
        foreach (var (name, id, body) in cases)
        {
            await client.Publish(QueueNames.StartMigration, body);
            using var response = await http.PostAsync("/api/migrations", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(name == "body too large" ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.BadRequest, $"{name}: {text}");
            var problem = JsonDocument.Parse(text).RootElement;
            // A body the rules refuse before reading it as a command: the detail; a command the validator refuses: every problem, in order.
            overHttp[id] = problem.TryGetProperty("detail", out var detail)
                ? detail.GetString()!
                : string.Join(" ", problem.GetProperty("errors").EnumerateObject().SelectMany(e => e.Value.EnumerateArray()).Select(p => p.GetString()));
        }
        var overAmqp = new Dictionary<Guid, string>();
        await Eventually.Get(async () =>
        {
            foreach (var (body, fault) in await client.Take(ErrorQueue))
                if (cases.FirstOrDefault(c => body.Contains(c.Id.ToString(), StringComparison.Ordinal)) is { Body: not null } found && fault is not null)
                    overAmqp[found.Id] = fault;
            foreach (var (_, id, _) in cases.Where(c => !overAmqp.ContainsKey(c.Id)))
                if (await orchestrator.Summary(id) is { State: MigrationStates.Rejected, Reason: { } reason })
                    overAmqp[id] = reason;
            return overAmqp.Count;
        }, count => count == cases.Count, "every bad body sent over AMQP to be refused", TimeSpan.FromSeconds(60));

        foreach (var (name, id, _) in cases)
            overAmqp[id].ShouldBe(overHttp[id], $"{name}: AMQP and HTTP refuse it in other words");
        overHttp[cases.Single(c => c.Case == "misplaced member").Id].ShouldBe(
            "The body cannot be read as StartMigration: 'maxDowntimeMs' is not a member of StartMigration; it belongs in 'policy.maxDowntimeMs'. "
            + "A member the command does not have is refused, not ignored.");
        overHttp[cases.Single(c => c.Case == "number as a string").Id].ShouldBe(
            "The body cannot be read as StartMigration: 'policy.maxDowntimeMs' must be a whole number, as a JSON number (not a string).");
    }

    async Task RejectsWith(string body, string reason)
    {
        await using var client = await PlainAmqpClient.ConnectAsync();
        var id = JsonDocument.Parse(body).RootElement.GetProperty("migrationId").GetGuid();

        await client.Publish(QueueNames.StartMigration, body);

        var summary = await orchestrator.WaitForEnd(id);
        summary!.State.ShouldBe(MigrationStates.Rejected);
        summary.RejectionCode.ShouldBe(RejectionCodes.InvalidCommand);
        summary.Reason.ShouldNotBeNull().ShouldContain(reason);
        summary.VmId.ShouldNotBeNull().Length.ShouldBeLessThanOrEqualTo(64);
        summary.VmId.ShouldNotContain("\0");
    }

    /// <summary>The reasons the _error queue gives for the messages of this migration (other tests' are taken too, and dropped).</summary>
    static async Task<List<string?>> TakeFaults(PlainAmqpClient client, Guid migrationId)
    {
        var faults = new List<string?>();
        await Eventually.Get(async () =>
        {
            faults.AddRange((await client.Take(ErrorQueue)).Where(m => m.Body.Contains(migrationId.ToString())).Select(m => m.Fault));
            return faults.Count;
        }, count => count > 0, $"the _error queue to hold {migrationId}");
        return faults;
    }

    static List<string> Snapshot(List<string> bodies)
    {
        lock (bodies)
            return [.. bodies];
    }
}
