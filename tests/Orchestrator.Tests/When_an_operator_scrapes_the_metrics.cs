using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// Prometheus scrapes serve's and a worker's <c>/metrics</c> (real processes, the worker with its own HTTP port) during
/// a migration and after it: the per-migration series, labelled by hypervisor and strategy, move as the migration does,
/// and the worker answers its health and metrics.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class When_an_operator_scrapes_the_metrics : IAsyncLifetime
{
    ChaosRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await ChaosRig.Create("metrics");

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Should_find_the_migration_series_moving_on_serve_and_the_worker_healthy()
    {
        var environment = _rig.Environment(4);
        environment["Metrics__GaugePeriod"] = "00:00:00.250";
        var servePort = PrivateService.FreePort();
        var workerPort = PrivateService.FreePort();
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "met-a", "--host", "met-b",
            "--real-time-factor", "0.2", "--urls", $"http://127.0.0.1:{workerPort}");
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", $"http://127.0.0.1:{servePort}");
        using var serveHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{servePort}") };
        using var workerHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{workerPort}") };
        await Eventually.Get(() => HttpProbe.Status(serveHttp, "/health/ready"), s => s == HttpStatusCode.OK, "serve to be ready", TimeSpan.FromSeconds(90));
        await Eventually.Get(() => HttpProbe.Status(workerHttp, "/health/ready"), s => s == HttpStatusCode.OK, "the worker to be ready", TimeSpan.FromSeconds(90));
        var before = await Scrape(serveHttp);

        // An 8 GiB VM that dirties little, at twice its dirty rate and a half-second downtime limit: a first pass of
        // seconds, then rounds that halve what remains, each seen by a scrape.
        var vm = Enumerable.Range(0, 500).Select(i => SimVm.FromId($"vm-metrics-{i}")).First(v => v.MemoryBytes == 8L << 30 && v.DirtyRateBytesPerSecond <= 50L << 20);
        var id = Guid.NewGuid();
        await using (var client = await PlainAmqpClient.ConnectAsync(_rig.Settings.RabbitMq))
        {
            await _rig.WaitForQueues(client, "met-b");
            await ChaosRig.Start(client, id, vm.VmId, "met-a", "met-b", bandwidthMiBps: (int)(2 * vm.DirtyRateBytesPerSecond >> 20), maxDowntimeMs: 500);
        }
        var during = await Eventually.Get(() => Scrape(serveHttp),
            s => Value(s, "orchestrator_migrations_in_flight", "phase=\"PreCopying\"") >= 1 && Value(s, "orchestrator_migration_data_remaining_bytes") > 0,
            "a scrape to see the migration transferring", TimeSpan.FromSeconds(60));
        await Eventually.Get(() => _rig.Summaries([id]), all => all.Count == 1 && all[0].IsTerminal, "the migration to end", TimeSpan.FromSeconds(90));
        var after = await Eventually.Get(() => Scrape(serveHttp),
            s => Value(s, "orchestrator_migration_outcomes_total", "outcome=\"Completed\"") > Value(before, "orchestrator_migration_outcomes_total", "outcome=\"Completed\""),
            "a scrape to count the outcome", TimeSpan.FromSeconds(30));

        (await _rig.Summaries([id]))[0].State.ShouldBe(MigrationStates.Completed);
        Value(during, "orchestrator_migration_dirty_memory_rate_bytes_per_second").ShouldBeGreaterThan(0);
        Value(after, "orchestrator_migration_phase_transitions_total", "to=\"Completed\"").ShouldBe(1);
        Value(after, "orchestrator_migration_phase_transitions_total", "hypervisor=\"sim\"").ShouldBeGreaterThanOrEqualTo(5);
        Value(after, "orchestrator_migration_data_processed_bytes_total").ShouldBeGreaterThanOrEqualTo(vm.MemoryBytes);
        Value(after, "orchestrator_migration_downtime_seconds_count").ShouldBe(1);
        Value(after, "orchestrator_migration_expected_downtime_seconds_count").ShouldBeGreaterThanOrEqualTo(1);
        Value(after, "orchestrator_migration_phase_duration_seconds_count", "phase=\"PreCopying\"").ShouldBe(1);
        Value(after, "orchestrator_migration_phase_duration_seconds_sum", "phase=\"PreCopying\"").ShouldBeGreaterThan(1);
        Value(after, "orchestrator_transition_duration_milliseconds_count", "stage=\"commit\"").ShouldBeGreaterThan(Value(before, "orchestrator_transition_duration_milliseconds_count", "stage=\"commit\""));
        // Its transitions without an admission decision went through the group committer (alone, on an idle serve).
        Value(after, "orchestrator_transition_group_size_count").ShouldBeGreaterThan(Value(before, "orchestrator_transition_group_size_count"));
        after.ShouldContain("orchestrator_outbox_backlog");
        after.ShouldContain("orchestrator_admission_queue_length");
        after.ShouldContain("orchestrator_attention{");
        // The intake's back-pressure: the saga queue's depth as read from the broker, and how many starts it holds.
        after.ShouldContain("\norchestrator_saga_backlog");
        after.ShouldContain("\norchestrator_intake_held");
        // No series is labelled by migration id: its cardinality would grow with every migration.
        after.ShouldNotContain(id.ToString());

        var workerMetrics = await Scrape(workerHttp);
        Value(workerMetrics, "messaging_masstransit_consume_ea_total").ShouldBeGreaterThan(0);
        (await HttpProbe.Status(workerHttp, "/health/live")).ShouldBe(HttpStatusCode.OK);
    }

    static async Task<string> Scrape(HttpClient client)
    {
        try
        {
            return await client.GetStringAsync("/metrics");
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>The sum of a metric's samples whose labels hold every one of <paramref name="labels"/>.</summary>
    static double Value(string scrape, string metric, params string[] labels) =>
        Sample().Matches(scrape).Where(m => m.Groups["name"].Value == metric && labels.All(m.Groups["labels"].Value.Contains))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
