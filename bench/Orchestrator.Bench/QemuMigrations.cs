using System.Diagnostics;
using System.Text.Json.Nodes;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Bench;

/// <summary>
/// The same real QEMU migrations run twice in one run: by the orchestrator (saga on PostgreSQL, commands over RabbitMQ,
/// the qemu worker) and by a direct QMP sequence (what a script talking to QEMU would do). Total time from the request
/// to the VM running on the target with the source gone, and the downtime QEMU itself reports, read by an observer on
/// the source's second QMP monitor in both cases.
/// </summary>
public static class QemuMigrations
{
    const string Source = "bench-qa";
    const string Target = "bench-qb";
    const long MiB = 1024 * 1024;

    /// <summary>One migration: wall time, QEMU's downtime, and the pre-copy rounds QEMU ran (its dirty-sync count − 1).</summary>
    public sealed record Run(double TotalMs, double QemuDowntimeMs, long Rounds, string Phases = "");

    public sealed record Result(string Scenario, IReadOnlyList<Run> Orchestrated, IReadOnlyList<Run> Direct);

    /// <summary>
    /// What the orchestrator's policy did during a run, for the direct sequence to do at the same rounds: each raise of
    /// the downtime limit (after round, new limit in ms) and the round after which it switched to post-copy (0: never).
    /// </summary>
    public sealed record Decisions(IReadOnlyList<(int AfterRound, int DowntimeLimitMs)> Raises, int SwitchRound);

    /// <summary>A guest and a policy: <paramref name="PostCopy"/> lets a migration that cannot converge switch to post-copy.</summary>
    public sealed record Scenario(string Name, int Mib, int Rate, int BandwidthMiBps, int MaxDowntimeMs, bool PostCopy);

    public static async Task<IReadOnlyList<Result>> Measure(string postgres, string rabbit, string guest, int repeats)
    {
        var root = Path.Combine("/tmp", $"ob-{Guid.NewGuid():N}"[..11]);
        var options = new QemuOptions { RuntimeRoot = root, PollInterval = TimeSpan.FromMilliseconds(100) };
        await using var hosts = new QemuHosts(Options.Create(options), NullLogger<QemuHosts>.Instance);
        var settings = new OrchestratorSettings(postgres, rabbit, $"benchq_{Guid.NewGuid():N}"[..20]);
        using var serve = Build(builder => builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            ConfigureAdmission = limits => (limits.MaxInboundPerHost, limits.MaxOutboundPerHost, limits.MaxPerCluster) = (1000, 1000, 10000),
        }));
        using var worker = Build(builder => builder.Services.AddBus(settings, new BusOptions
        {
            Hypervisor = HypervisorKinds.Qemu,
            WorkerHosts = [Source, Target],
            ConfigureQemu = qemu => (qemu.RuntimeRoot, qemu.PollInterval) = (root, options.PollInterval),
        }));
        await serve.StartAsync();
        await worker.StartAsync();
        try
        {
            // A long-running orchestrator has applied thousands of transitions: its code is at the JIT's last tier.
            // A batch of sim migrations through the same saga host first, so a QEMU migration does not run the saga
            // on first-tier code (seen: 10-15 ms per transition instead of 3-5).
            using (var sim = Build(builder => builder.Services.AddBus(settings, new BusOptions
                   {
                       WorkerHosts = SagaThroughput.Hosts,
                       ConfigureSim = s => s.HostMemoryBytes = 1L << 50,
                   })))
            {
                await sim.StartAsync();
                for (var batch = 0; batch < 4; batch++)
                    await SimBatch.Run(serve, SagaThroughput.Hosts, $"warm-{batch}", 300, TimeSpan.Zero);
                await sim.StopAsync();
            }

            Scenario[] scenarios =
            [
                // At the first downtime limit (a quarter of the cap) this guest converges in a few rounds in some runs
                // and not in others (QEMU's bandwidth estimate varies run to run); the orchestrator's policy then ramps
                // the limit, and the direct sequence raises it at the same rounds.
                new("converging (8 MiB at 16 MiB/s, 64 MiB/s link)", 8, 16, 64, 600, PostCopy: false),
                // Most of the guest's memory in use and rewritten at half the link's rate: each round sends about half
                // the last one, about 1.5 s in all, nearer a real VM's migration than the 8 MiB one above, whose
                // ~190 ms makes the orchestrator's fixed cost (its durable steps) the larger part of the ratio.
                new("converging, larger (48 MiB at 32 MiB/s, 64 MiB/s link)", 48, 32, 64, 600, PostCopy: false),
                new("non-converging -> post-copy (8 MiB at 256 MiB/s, 16 MiB/s link)", 8, 256, 16, 100, PostCopy: true),
            ];
            var results = new List<Result>();
            var n = 0;
            // One unmeasured pair first: JIT, first connections and first queue declarations are not the steady state.
            var (_, warmUp) = await Orchestrated(serve, hosts, guest, scenarios[0], $"vm-w{n++}");
            await Direct(hosts, guest, scenarios[0], $"vm-w{n++}", warmUp);
            foreach (var scenario in scenarios)
            {
                var orchestrated = new List<Run>();
                var direct = new List<Run>();
                for (var i = 0; i < repeats; i++)
                {
                    var (run, decisions) = await Orchestrated(serve, hosts, guest, scenario, $"vm-o{n++}");
                    orchestrated.Add(run);
                    var directVm = $"vm-d{n++}";
                    try
                    {
                        direct.Add(await Direct(hosts, guest, scenario, directVm, decisions));
                    }
                    catch (TimeoutException)
                    {
                        await hosts.KillAsync(Source, directVm);
                        await hosts.KillAsync(Target, directVm);
                        // The direct sequence did what the policy did and still did not converge: recorded as such, the
                        // other runs still measured.
                        direct.Add(new Run(double.NaN, double.NaN, -1));
                    }
                }
                results.Add(new Result(scenario.Name, orchestrated, direct));
            }
            return results;
        }
        finally
        {
            await worker.StopAsync();
            await serve.StopAsync();
            await hosts.KillAllAsync();
        }
    }

    static async Task<(Run Run, Decisions Decisions)> Orchestrated(IHost serve, QemuHosts hosts, string guest, Scenario scenario, string vm)
    {
        await StartGuest(hosts, guest, scenario, vm);
        await using var observer = await DowntimeObserver.Attach(hosts.MonitorSocket(Source, vm));
        var id = NewId.NextGuid();
        var endpoint = await serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        var store = serve.Services.GetRequiredService<IDocumentStore>();
        var sentAt = DateTimeOffset.UtcNow;
        await endpoint.Send(new StartMigration(id, vm, Source, Target, HypervisorKinds.Qemu, null,
            new MigrationPolicy(MaxDowntimeMs: scenario.MaxDowntimeMs, MaxBandwidthMiBps: scenario.BandwidthMiBps,
                AllowPostCopy: scenario.PostCopy, AllowAutoConverge: false, CompletionTimeoutSecondsPerGiB: 60)));
        MigrationSummary? summary;
        while (true)
        {
            await using (var session = store.QuerySession())
                summary = await session.Summary(id);
            if (summary is { IsTerminal: true })
                break;
            await Task.Delay(5);
        }
        if (summary.State != MigrationStates.Completed)
            throw new InvalidOperationException($"The orchestrated migration of {vm} ended {summary.State}: {summary.Reason}");
        await hosts.KillAsync(Target, vm);

        await using var read = store.QuerySession();
        var stream = await read.Events.FetchStreamAsync(id);
        var events = stream.Select(e => e.Data).ToList();
        // Until the orchestrator recorded the migration completed (its own clock, this machine's): the polling above
        // is the benchmark's, not the orchestrator's.
        var elapsed = (events.OfType<MigrationCompleted>().Single().Timestamp - sentAt).TotalMilliseconds;
        // Where the time went, from the stream's own timestamps: the request until the target is ready, the transfer
        // (QEMU's part), and from the switchover report to Completed.
        var prepared = stream.FirstOrDefault(e => e.Data is TargetPrepared)?.Timestamp;
        var switched = stream.FirstOrDefault(e => e.Data is SwitchoverCompleted or PostCopyCompleted)?.Timestamp;
        var phases = prepared is { } p && switched is { } s
            ? $"{(p - stream[0].Timestamp).TotalMilliseconds:0}+{(s - p).TotalMilliseconds:0}+{(stream[^1].Timestamp - s).TotalMilliseconds:0}"
            : "";
        var switchAt = events.FindIndex(e => e is MigrationPolicyAdjusted { Action: "SwitchToPostCopy" });
        var switchRound = switchAt < 0 ? 0 : events.Take(switchAt).OfType<PreCopyRoundCompleted>().Count();
        var raises = events.Select((e, i) => (Event: e, Index: i))
            .Where(x => x.Event is MigrationPolicyAdjusted { Action: "RaiseDowntime" })
            .Select(x => (events.Take(x.Index).OfType<PreCopyRoundCompleted>().Count(), ((MigrationPolicyAdjusted)x.Event).DowntimeLimitMs))
            .ToList();
        return (new Run(elapsed, await observer.Downtime(), events.OfType<PreCopyRoundCompleted>().Count(), phases), new Decisions(raises, switchRound));
    }

    /// <summary>
    /// The direct sequence: destination with -incoming defer and migrate-incoming, capabilities and parameters on both
    /// sides, migrate, the downtime limit raised and post-copy started after the same rounds the orchestrator's policy did
    /// (the same migration, minus the orchestration), wait for completion, quit the source.
    /// </summary>
    static async Task<Run> Direct(QemuHosts hosts, string guest, Scenario scenario, string vm, Decisions decisions)
    {
        var switchRound = decisions.SwitchRound;
        var raises = new Queue<(int AfterRound, int DowntimeLimitMs)>(decisions.Raises);
        var definition = await StartGuest(hosts, guest, scenario, vm);
        await using var observer = await DowntimeObserver.Attach(hosts.MonitorSocket(Source, vm));
        var stopwatch = Stopwatch.StartNew();
        await hosts.StartAsync(Target, vm, definition, incoming: true, CancellationToken.None);
        await using var destination = await QmpClient.ConnectAsync(hosts.QmpSocket(Target, vm), TimeSpan.FromSeconds(10));
        await destination.ExecuteAsync("migrate-set-capabilities", Capabilities(scenario.PostCopy));
        var uri = $"tcp:127.0.0.1:{FreePort()}";
        await destination.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri });
        var ready = stopwatch.Elapsed.TotalMilliseconds;

        var source = await hosts.ConnectAsync(Source, vm, CancellationToken.None);
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var switchNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.EventReceived += e =>
        {
            if (e.Name == "MIGRATION" && e.Data.GetProperty("status").GetString() is "completed" or "failed" or "cancelled")
                completed.TrySetResult();
            if (e.Name == "MIGRATION_PASS" && switchRound > 0 && e.Data.GetProperty("pass").GetInt32() - 1 >= switchRound)
                switchNow.TrySetResult();
        };
        await source.ExecuteAsync("migrate-set-capabilities", Capabilities(scenario.PostCopy));
        await source.ExecuteAsync("migrate-set-parameters", new JsonObject
        {
            ["downtime-limit"] = Math.Max(1, scenario.MaxDowntimeMs / 4),
            ["max-bandwidth"] = scenario.BandwidthMiBps * MiB,
            ["max-postcopy-bandwidth"] = scenario.BandwidthMiBps * MiB,
        });
        await source.ExecuteAsync("migrate", new JsonObject { ["uri"] = uri });
        // Events first, as the driver does; query-migrate every few milliseconds as well, so an event that does not
        // come (seen: a run waited its whole two minutes for MIGRATION completed) cannot stall the sequence.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        var switched = switchRound == 0;
        string status;
        while (true)
        {
            var info = MigrationInfo.Parse(await source.ExecuteAsync("query-migrate"));
            status = info.Status;
            if (status is "completed" or "failed" or "cancelled")
                break;
            while (raises.TryPeek(out var raise) && info.DirtySyncCount - 1 >= raise.AfterRound)
            {
                raises.Dequeue();
                await source.ExecuteAsync("migrate-set-parameters", new JsonObject { ["downtime-limit"] = raise.DowntimeLimitMs });
            }
            if (!switched && (switchNow.Task.IsCompleted || info.DirtySyncCount - 1 >= switchRound))
            {
                await source.ExecuteAsync("migrate-start-postcopy");
                switched = true;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The direct migration of {vm} did not end within 120 s (status {status}).");
            await Task.WhenAny(completed.Task, switchNow.Task.IsCompleted ? Task.Delay(5) : Task.WhenAny(switchNow.Task, Task.Delay(5)));
        }
        if (status != "completed")
            throw new InvalidOperationException($"The direct migration of {vm} ended {status}.");
        var done = MigrationInfo.Parse(await source.ExecuteAsync("query-migrate"));
        var moved = stopwatch.Elapsed.TotalMilliseconds;
        // QEMU's figures, read as the driver reads them.
        var final = await MigrationInfo.FinalAsync(source, done);
        await hosts.QuitAsync(Source, vm, TimeSpan.FromSeconds(2), CancellationToken.None);
        var elapsed = stopwatch.Elapsed.TotalMilliseconds;
        await hosts.KillAsync(Target, vm);
        // The observer's figure when it read one; else the sequence's own (the source quit before the observer asked).
        var downtime = await observer.Downtime();
        return new Run(elapsed, double.IsNaN(downtime) && final.TotalTimeMs > 0 ? final.DowntimeMs : downtime, final.DirtySyncCount - 1,
            $"{ready:0}+{moved - ready:0}+{elapsed - moved:0}");
    }

    static JsonObject Capabilities(bool postCopy) => new()
    {
        ["capabilities"] = new JsonArray(
            new JsonObject { ["capability"] = "events", ["state"] = true },
            new JsonObject { ["capability"] = "postcopy-ram", ["state"] = postCopy }),
    };

    static async Task<QemuVmDefinition> StartGuest(QemuHosts hosts, string guest, Scenario scenario, string vm)
    {
        var definition = new QemuVmDefinition(65528, guest, $"mib={scenario.Mib} rate={scenario.Rate}");
        await hosts.StartAsync(Source, vm, definition, incoming: false, CancellationToken.None);
        await using var monitor = await QmpClient.ConnectAsync(hosts.MonitorSocket(Source, vm), TimeSpan.FromSeconds(10));
        GuestStatus status;
        while ((status = await GuestStatus.ReadAsync(monitor)).Pass < 2)
            await Task.Delay(20);
        if (status.WorkingSetMiB != scenario.Mib || status.RateMiBps != scenario.Rate)
            throw new InvalidOperationException($"The guest runs {status.WorkingSetMiB} MiB at {status.RateMiBps} MiB/s, not the scenario's "
                + $"{scenario.Mib} MiB at {scenario.Rate} MiB/s.");
        return definition;
    }

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    static IHost Build(Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure(builder);
        return builder.Build();
    }

    /// <summary>Reads QEMU's own downtime figure on the source the moment the migration completes, whoever drives it.</summary>
    sealed class DowntimeObserver : IAsyncDisposable
    {
        readonly QmpClient _qmp;
        readonly TaskCompletionSource<double> _downtime = new(TaskCreationOptions.RunContinuationsAsynchronously);

        DowntimeObserver(QmpClient qmp)
        {
            _qmp = qmp;
            qmp.EventReceived += e =>
            {
                if (e.Name == "MIGRATION" && e.Data.GetProperty("status").GetString() == "completed")
                    _ = Read();
            };
        }

        public static async Task<DowntimeObserver> Attach(string monitorSocket) =>
            new(await QmpClient.ConnectAsync(monitorSocket, TimeSpan.FromSeconds(10)));

        async Task Read()
        {
            try
            {
                for (var attempt = 0; attempt < 50; attempt++)
                {
                    var info = MigrationInfo.Parse(await _qmp.ExecuteAsync("query-migrate"));
                    if (info.TotalTimeMs > 0)
                    {
                        _downtime.TrySetResult(info.DowntimeMs);
                        return;
                    }
                    await Task.Delay(2);
                }
                _downtime.TrySetResult(double.NaN);
            }
            catch (IOException)
            {
                _downtime.TrySetResult(double.NaN); // The source quit before the figure could be read.
            }
        }

        public async Task<double> Downtime() => await _downtime.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public ValueTask DisposeAsync() => _qmp.DisposeAsync();
    }
}
