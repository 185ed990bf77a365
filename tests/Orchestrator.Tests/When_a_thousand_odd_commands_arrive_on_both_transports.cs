using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 14's fuzz: 1,000 generated commands, half over AMQP and half over HTTP, to serve and a sim worker running as
/// real processes on a virtual host of their own. Most are bad (random Unicode with NUL, control characters, bidi marks
/// and lone surrogates; bodies up to 4 MB; wrong types; wrong content types; unknown members), every twentieth is valid,
/// and some valid ones are sent twice. Every bad one gets a MigrationRejected with a reason, an _error-queue entry, or
/// an HTTP 4xx problem; afterwards the intake still has its consumer, no outbox row is older than 10 s, every valid
/// migration completed, and serve's log grew by less than 1 MB.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_a_thousand_odd_commands_arrive_on_both_transports : IAsyncLifetime
{
    const int Commands = 1000;
    const string Key = "key-fuzz-operator-0123";
    static readonly string[] Strange = ["\0", "\u0001", "\u001b", "\u007f", "\u202e", "\u2066", "\ud800", "\udfff", " ", "\t", "#", "?", "/", "é"];
    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("fuzz");
    readonly Random _random = new(20261205);

    enum Kind { Valid, BadText, Oversized, WrongType, WrongContentType, UnknownMember }

    sealed record Sent(Guid Id, Kind Kind, bool Http, string Marker);

    public async ValueTask InitializeAsync() => _vhost = await RabbitVhost.Create("fuzz");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _vhost.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_every_bad_command_and_complete_every_valid_one()
    {
        var port = PrivateService.FreePort();
        var rabbit = _vhost.ConnectionString;
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestServices.Postgres,
            ["ConnectionStrings__RabbitMq"] = rabbit,
            ["Orchestrator__Schema"] = _schema.Name,
            ["Api__Clients__0__Name"] = "fuzz-operator",
            ["Api__Clients__0__Key"] = Key,
            ["Api__Clients__0__Roles__0"] = ApiRoles.Operator,
            ["Admission__MaxOutboundPerHost"] = "100",
            ["Admission__MaxInboundPerHost"] = "100",
            ["Admission__MaxPerCluster"] = "100",
        };
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "fz-a", "--host", "fz-b");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        // As a careful client sends a large body: the server may refuse it (413) before reading it.
        http.DefaultRequestHeaders.ExpectContinue = true;
        await using var amqp = await PlainAmqpClient.ConnectAsync(rabbit);
        await Eventually.Get(async () => await amqp.QueueExists(QueueNames.StartMigration) && await amqp.QueueExists(QueueNames.Worker("sim", "fz-b")),
            up => up, "serve and the worker to start", TimeSpan.FromSeconds(90));
        await Eventually.Get(() => HttpProbe.Status(http, "/health/ready"), s => s == HttpStatusCode.OK, "serve to be ready");
        var logBefore = serve.Output.Length;

        var sent = new List<Sent>();
        var httpProblems = new List<string>();
        for (var i = 0; i < Commands; i++)
        {
            var kind = i % 20 == 0 ? Kind.Valid : (Kind)(1 + _random.Next(5));
            var command = Generate(kind, i);
            var overHttp = i % 2 == 1;
            if (overHttp)
            {
                using var content = new ByteArrayContent(command.Body);
                content.Headers.ContentType = command.ContentType is null ? null : MediaTypeHeaderValue.Parse(command.ContentType);
                using var response = await http.PostAsync("/api/migrations", content);
                var status = (int)response.StatusCode;
                if (kind == Kind.Valid)
                    response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
                else
                    status.ShouldBeInRange(400, 499, $"{kind} #{i}: {await response.Content.ReadAsStringAsync()}");
                if (kind != Kind.Valid)
                    httpProblems.Add($"{status}");
            }
            else
            {
                await amqp.Publish(QueueNames.StartMigration, Encoding.UTF8.GetString(command.Body), command.ContentType);
                if (kind == Kind.Valid && i % 40 == 0)
                    await amqp.Publish(QueueNames.StartMigration, Encoding.UTF8.GetString(command.Body), command.ContentType);
            }
            sent.Add(new Sent(command.Id, kind, overHttp, command.Id.ToString()));
        }

        // Every valid migration completes, whichever transport brought it, once each.
        foreach (var valid in sent.Where(s => s.Kind == Kind.Valid))
            (await Eventually.Get(() => State(http, valid.Id), s => s is not null && MigrationStates.IsTerminal(s), $"valid migration {valid.Id}",
                TimeSpan.FromSeconds(120))).ShouldBe(MigrationStates.Completed);
        // Every bad AMQP command was rejected with a reason, or set aside in the _error queue.
        var errors = new List<string>();
        var badOverAmqp = sent.Where(s => !s.Http && s.Kind != Kind.Valid).ToList();
        var unanswered = await Eventually.Get(async () =>
        {
            errors.AddRange((await amqp.Take(QueueNames.StartMigration + "_error")).Select(e => e.Body));
            var open = new List<Sent>();
            foreach (var bad in badOverAmqp)
                if (!errors.Any(body => body.Contains(bad.Marker, StringComparison.Ordinal)) && await State(http, bad.Id) != MigrationStates.Rejected)
                    open.Add(bad);
            return open;
        }, open => open.Count == 0, "every bad AMQP command to be answered", TimeSpan.FromSeconds(60));
        unanswered.ShouldBeEmpty();

        (await amqp.ConsumerCount(QueueNames.StartMigration)).ShouldBeGreaterThan(0u);
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            await using var old = new NpgsqlCommand(
                $"select count(*) from {_schema.Name}.mt_doc_outboxmessage where created_at < now() - interval '10 seconds'", connection);
            ((long)(await old.ExecuteScalarAsync())!).ShouldBe(0);
        }
        (serve.Output.Length - logBefore).ShouldBeLessThan(1 << 20);
        sent.Count(s => s.Kind != Kind.Valid).ShouldBeGreaterThan(900);
        httpProblems.Count.ShouldBeGreaterThan(400);
    }

    (Guid Id, byte[] Body, string? ContentType) Generate(Kind kind, int i)
    {
        var id = Guid.NewGuid();
        var vm = $"vm-fuzz-{i}";
        string Json(object command) => JsonSerializer.Serialize(command);
        object Start(string vmId, string source = "fz-a", string target = "fz-b", string requestedBy = "fuzzer") =>
            new { migrationId = id, vmId, sourceHost = source, targetHost = target, hypervisor = HypervisorKinds.Sim, requestedBy };
        return kind switch
        {
            Kind.Valid => (id, Encoding.UTF8.GetBytes(Json(Start(vm))), "application/json"),
            Kind.BadText => (id, Encoding.UTF8.GetBytes(_random.Next(4) switch
            {
                0 => Json(Start(Odd(vm))),
                1 => Json(Start(vm, source: Odd("fz-a"))),
                2 => Json(Start(vm, target: Odd("fz-b"))),
                _ => Json(Start(vm, requestedBy: Odd("fuzzer"))),
            }), "application/json"),
            // 64 KiB to 4 MB, the migration id up front where the _error entry shows it.
            Kind.Oversized => (id, Encoding.UTF8.GetBytes(Json(Start(vm, requestedBy: new string('x', _random.Next(65_536, 4 << 20))))), "application/json"),
            Kind.WrongType => (id, Encoding.UTF8.GetBytes(_random.Next(3) switch
            {
                0 => $$"""{"migrationId":"{{id}}","vmId":42,"sourceHost":"fz-a","targetHost":"fz-b","hypervisor":"sim"}""",
                1 => $$"""{"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"fz-a","targetHost":"fz-b","hypervisor":"sim","policy":"fast"}""",
                _ => $$"""{"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"fz-a","targetHost":"fz-b","hypervisor":"sim","policy":{"maxDowntimeMs":"300" """
                    + "}}",
            }), "application/json"),
            Kind.WrongContentType => (id, Encoding.UTF8.GetBytes(Json(Start(vm))),
                new[] { "text/plain", "application/octet-stream", "application/xml", null }[_random.Next(4)]),
            _ => (id, Encoding.UTF8.GetBytes(Json(Start(vm)).TrimEnd('}') + $$""","{{Odd("x")}}":1}"""), "application/json"),
        };
    }

    /// <summary>The text with one to four strange characters put in, at least one of them outside every rule.</summary>
    string Odd(string text)
    {
        var builder = new StringBuilder(text);
        builder.Insert(_random.Next(builder.Length + 1), Strange[_random.Next(8)]);
        for (var extra = _random.Next(4); extra > 0; extra--)
            builder.Insert(_random.Next(builder.Length + 1), Strange[_random.Next(Strange.Length)]);
        return builder.ToString();
    }

    static async Task<string?> State(HttpClient http, Guid id)
    {
        using var response = await http.GetAsync($"/api/migrations/{id}");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<MigrationSummary>())?.State : null;
    }
}
