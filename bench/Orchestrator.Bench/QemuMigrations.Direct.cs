using System.Diagnostics;
using System.Text.Json.Nodes;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Bench;

/// <summary>The direct harness: the same migration as a script talking QMP to both QEMUs would run it, with no orchestrator.</summary>
public static partial class QemuMigrations
{
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

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
