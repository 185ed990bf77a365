using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// Two <c>orchestrator worker --driver sim</c> processes, each serving one host, and <c>serve</c>, on a RabbitMQ virtual
/// host and a PostgreSQL schema of the test's own: the workers make one fleet (their shared placement registry), so
/// migrations between their hosts complete, a worker killed and started again still knows its VMs, and pre-flight
/// counts the memory promised to migrations already on their way to a target; a transfer whose worker is killed resumes
/// after the passes it sent.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_two_sim_workers_serve_one_fleet : IAsyncLifetime
{
    const string OperatorKey = "key-operator-sim-fleet";
    const long GiB = 1L << 30;
    readonly TestSchema _schema = TestSchema.Create("simfleet");
    readonly List<OrchestratorProcess> _processes = [];
    RabbitVhost _vhost = null!;
    HttpClient _client = null!;
    Dictionary<string, string> _environment = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("simfleet");
        var port = PrivateService.FreePort();
        _environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = TestServices.Postgres,
            ["ConnectionStrings__RabbitMq"] = _vhost.ConnectionString,
            ["Orchestrator__Schema"] = _schema.Name,
            ["Admission__MaxOutboundPerHost"] = "10",
            ["Admission__MaxInboundPerHost"] = "10",
            ["Admission__MaxPerCluster"] = "20",
            ["Api__Clients__0__Name"] = "sim-fleet-operator",
            ["Api__Clients__0__Key"] = OperatorKey,
            ["Api__Clients__0__Roles__0"] = ApiRoles.Operator,
        };
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
        _processes.Add(OrchestratorProcess.Start(_environment, "serve", "--urls", $"http://127.0.0.1:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        foreach (var process in _processes)
            process.Dispose();
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
    public async Task Should_complete_migrations_between_their_hosts_and_keep_a_restarted_workers_vms()
    {
        Worker("sf-a");
        var b = Worker("sf-b");
        await Started();
        string[] toB = ["vm-fleet-1", "vm-fleet-2", "vm-fleet-3", "vm-fleet-4"];
        string[] toA = ["vm-fleet-5", "vm-fleet-6"];
        var ids = new List<Guid>();
        foreach (var vm in toB)
            ids.Add(await Start(vm, "sf-a", "sf-b"));
        foreach (var vm in toA)
            ids.Add(await Start(vm, "sf-b", "sf-a"));

        var ended = await Ended(ids);
        ended.ShouldAllBe(summary => summary.State == MigrationStates.Completed, Describe(ended));

        b.Kill();
        await using (var amqp = await PlainAmqpClient.ConnectAsync(_vhost.ConnectionString))
        {
            await Eventually.Get(() => amqp.ConsumerCount(QueueNames.Worker("sim", "sf-b")), count => count == 0, "the killed worker's consumer to go");
            Worker("sf-b");
            await Eventually.Get(() => amqp.ConsumerCount(QueueNames.Worker("sim", "sf-b")), count => count > 0, "the restarted worker to consume",
                TimeSpan.FromSeconds(60));
        }
        // A drain asks the host's worker what runs there: the restarted one answers from the fleet, not from a blank memory.
        using var response = await _client.PostAsync("/api/drains", Json("""{"host":"sf-b","targets":["sf-a"],"hypervisor":"sim"}"""));
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var drainId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("drainId").GetGuid();
        var drain = await Eventually.Get(() => Drain(drainId), progress => progress is { IsFinished: true }, "the drain of the restarted worker's host",
            TimeSpan.FromSeconds(60));

        drain!.Items.Select(item => item.VmId).Order().ShouldBe(toB, ignoreOrder: false, customMessage: Describe(drain));
        drain.State.ShouldBe(DrainProgress.Drained, Describe(drain));
    }

    [Fact]
    public async Task Should_refuse_at_pre_flight_a_target_whose_memory_is_promised_to_inbound_migrations()
    {
        _environment["Sim__HostMemoryBytes"] = $"{16 * GiB}";
        // Real time on the source, and 1 MiB/s: the inbound transfers hold their destinations' memory for hours (post-copy
        // allowed, so that pre-flight does not refuse them for a downtime pre-copy alone could not meet).
        Worker("sf-a", "--real-time-factor", "1");
        Worker("sf-b");
        await Started();
        var large = Enumerable.Range(0, 1000).Select(i => $"vm-promised-{i}").Where(vm => SimVm.FromId(vm).MemoryBytes == 8 * GiB).Take(2).ToArray();
        var small = Enumerable.Range(0, 1000).Select(i => $"vm-late-{i}").First(vm => SimVm.FromId(vm).MemoryBytes == GiB);
        var inbound = new List<Guid>();
        foreach (var vm in large)
            inbound.Add(await Start(vm, "sf-a", "sf-b", ""","policy":{"maxBandwidthMiBps":1,"allowPostCopy":true}"""));
        await Eventually.Get(() => Summaries(inbound), summaries => summaries.Count == inbound.Count && summaries.All(s => s.State == MigrationStates.PreCopying),
            "both inbound transfers to run (their destinations prepared)", TimeSpan.FromSeconds(60));

        var late = await Ended([await Start(small, "sf-a", "sf-b")]);

        late[0].State.ShouldBe(MigrationStates.Rejected, Describe(late));
        late[0].Reason.ShouldNotBeNull().ShouldContain("Target 'sf-b' has 0 GiB free (16 GiB of its memory promised to 2 inbound migrations)");
        (await Summaries(inbound)).Select(s => s.State).ShouldBe([MigrationStates.PreCopying, MigrationStates.PreCopying]);
    }

    [Fact]
    public async Task Should_resume_a_transfer_whose_worker_was_killed_after_the_passes_it_sent()
    {
        // A guest that dirties memory nearly as fast as the link carries it: several passes, each over a second of wall time.
        var vm = Enumerable.Range(0, 1000).Select(i => $"vm-resumed-{i}").Select(SimVm.FromId)
            .First(v => v.MemoryBytes == GiB && v.DirtyRateBytesPerSecond >= 110L << 20 && v.WorkingSetBytes >= 224L << 20);
        var a = Worker("sf-a", "--real-time-factor", "2");
        Worker("sf-b");
        await Started();
        var id = await Start(vm.VmId, "sf-a", "sf-b", $$""","policy":{"maxBandwidthMiBps":{{(vm.DirtyRateBytesPerSecond >> 20) + 60}}}""");
        var before = await Eventually.Get(() => Summaries([id]), summaries => summaries is [{ Rounds: >= 2 }],
            "two passes of the transfer", TimeSpan.FromSeconds(60));

        a.Kill();
        Worker("sf-a", "--real-time-factor", "2");
        var ended = await Ended([id]);
        var rounds = await Rounds(id);

        ended[0].State.ShouldBe(MigrationStates.Completed, Describe(ended));
        // Started again from pass 1, the rounds would fall back to 1 after the kill; resumed, they go on (the pass reported
        // but not yet recorded when the worker died may come twice).
        rounds.Count(round => round == 1).ShouldBe(1, Describe(rounds));
        rounds.Zip(rounds.Skip(1)).ShouldAllBe(pair => pair.Second >= pair.First, Describe(rounds));
        rounds.Max().ShouldBeGreaterThanOrEqualTo(before[0].Rounds, Describe(rounds));
    }

    async Task<List<int>> Rounds(Guid id)
    {
        using var response = await _client.GetAsync($"/api/migrations/{id}/events");
        var events = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. events.EnumerateArray().Where(e => e.GetProperty("type").GetString() == nameof(Contracts.Workers.PreCopyRoundCompleted))
            .OrderBy(e => e.GetProperty("version").GetInt64()).Select(e => e.GetProperty("data").GetProperty("round").GetInt32())];
    }

    OrchestratorProcess Worker(string host, params string[] options)
    {
        var process = OrchestratorProcess.Start(_environment, ["worker", "--driver", "sim", "--host", host, .. options]);
        _processes.Add(process);
        return process;
    }

    async Task Started()
    {
        await using var amqp = await PlainAmqpClient.ConnectAsync(_vhost.ConnectionString);
        await Eventually.Get(async () => await amqp.QueueExists(QueueNames.StartMigration)
                && await amqp.ConsumerCount(QueueNames.Worker("sim", "sf-a")) > 0 && await amqp.ConsumerCount(QueueNames.Worker("sim", "sf-b")) > 0
                && await HttpProbe.Status(_client, "/health/live") == HttpStatusCode.OK,
            up => up, "serve and both workers to start", TimeSpan.FromSeconds(60));
    }

    async Task<Guid> Start(string vm, string source, string target, string extra = "")
    {
        using var response = await _client.PostAsync("/api/migrations",
            Json($$"""{"vmId":"{{vm}}","sourceHost":"{{source}}","targetHost":"{{target}}","hypervisor":"sim"{{extra}}}"""));
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("migrationId").GetGuid();
    }

    async Task<List<MigrationSummary>> Ended(IReadOnlyList<Guid> ids) =>
        await Eventually.Get(() => Summaries(ids), summaries => summaries.Count == ids.Count && summaries.All(s => MigrationStates.IsTerminal(s.State)),
            "every migration to end", TimeSpan.FromSeconds(90));

    async Task<List<MigrationSummary>> Summaries(IReadOnlyList<Guid> ids)
    {
        var summaries = new List<MigrationSummary>();
        foreach (var id in ids)
        {
            using var response = await _client.GetAsync($"/api/migrations/{id}");
            if (response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<MigrationSummary>() is { } summary)
                summaries.Add(summary);
        }
        return summaries;
    }

    async Task<DrainProgress?> Drain(Guid id)
    {
        using var response = await _client.GetAsync($"/api/drains/{id}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<DrainProgress>() : null;
    }

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    string Describe(object? value) =>
        JsonSerializer.Serialize(value) + "\n--- processes ---\n" + string.Join("\n---\n", _processes.Select(p => p.Output.Length > 3000 ? p.Output[^3000..] : p.Output));
}
