using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Bench;

/// <summary>The orchestrated harness: a StartMigration to the saga, the qemu worker moving the VM, the outcome read from the event stream.</summary>
public static partial class QemuMigrations
{
    /// <summary>
    /// One migration; plain TCP unless <paramref name="encrypted"/>, as the direct sequence it is compared with; with
    /// <paramref name="disk"/>, the VM has a local disk of <see cref="DiskBytes"/> that moves with it.
    /// </summary>
    static async Task<(Run Run, Decisions Decisions)> Orchestrated(IHost serve, QemuHosts hosts, string guest, Scenario scenario, string vm,
        bool encrypted = false, bool disk = false)
    {
        var (run, decisions, _) = await OrchestratedWithSummary(serve, hosts, guest, scenario, vm, encrypted, disk);
        return (run, decisions);
    }

    /// <summary>One migration, with its summary (its forecast beside its outcome) and QEMU's own total time in <see cref="Run.QemuTotalMs"/>.</summary>
    static async Task<(Run Run, Decisions Decisions, MigrationSummary Summary)> OrchestratedWithSummary(IHost serve, QemuHosts hosts, string guest,
        Scenario scenario, string vm, bool encrypted = false, bool disk = false)
    {
        await StartGuest(hosts, guest, scenario, vm, disk);
        await using var observer = await DowntimeObserver.Attach(hosts.MonitorSocket(Source, vm));
        var id = NewId.NextGuid();
        var endpoint = await serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        var store = serve.Services.GetRequiredService<IDocumentStore>();
        var sentAt = DateTimeOffset.UtcNow;
        await endpoint.Send(new StartMigration(id, vm, Source, Target, HypervisorKinds.Qemu, null,
            new MigrationPolicy(MaxDowntimeMs: scenario.MaxDowntimeMs, MaxBandwidthMiBps: scenario.BandwidthMiBps,
                AllowPostCopy: scenario.PostCopy, AllowAutoConverge: false, CompletionTimeoutSecondsPerGiB: 60, RequireEncryption: encrypted)));
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
        var (downtime, total) = await observer.Figures();
        return (new Run(elapsed, downtime, events.OfType<PreCopyRoundCompleted>().Count(), phases)
        {
            QemuTotalMs = total,
            DiskMirrorReadyMs = events.OfType<DiskMirrorReady>().SingleOrDefault()?.ElapsedMs ?? double.NaN,
        }, new Decisions(raises, switchRound), summary);
    }
}
