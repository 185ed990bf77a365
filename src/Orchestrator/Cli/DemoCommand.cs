using System.CommandLine;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Serilog;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// The embedded default: every role in one process on MassTransit's in-memory transport, simulated hosts, and a private
/// PostgreSQL started here when no connection string is configured. Migrates a handful of VMs and shows it happen.
/// </summary>
public static class DemoCommand
{
    static readonly string[] Hosts = ["host-a", "host-b", "host-c", "host-d"];
    const string HotVm = "vm-002";

    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "How many VMs to migrate.", DefaultValueFactory = _ => 6 };
        var command = new Command("demo", "Run every role in one process and migrate a few simulated VMs.") { count };
        command.SetAction(async (parse, cancellationToken) => await Run(Math.Clamp(parse.GetValue(count), 1, 100), cancellationToken));
        return command;
    }

    static async Task<int> Run(int count, CancellationToken cancellationToken)
    {
        var configuration = OrchestratorSettings.LoadConfiguration();
        await using var embedded = OrchestratorSettings.HasPostgres(configuration) ? null : await StartEmbeddedPostgres(cancellationToken);
        var settings = OrchestratorSettings.From(configuration) with { Postgres = embedded?.ConnectionString ?? OrchestratorSettings.From(configuration).Postgres };

        var builder = Host.CreateApplicationBuilder();
        OrchestratorConfiguration.AddBesideExecutable(builder.Configuration, builder.Environment.EnvironmentName);
        builder.Services.AddSerilog(logger => logger.MinimumLevel.Warning().WriteTo.Console(standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose));
        builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            InMemory = true,
            WorkerHosts = Hosts,
            // Twenty times faster than real time: slow enough to watch the rounds, quick enough to wait for.
            ConfigureSim = sim =>
            {
                sim.RealTimeFactor = 0.05;
                // A database that rewrites memory faster than the link carries it: pre-copy alone never converges.
                sim.Vms[HotVm] = new SimVm(HotVm, 4L << 30, WorkingSetBytes: 1L << 30, DirtyRateBytesPerSecond: 700L << 20);
            },
            // One migration out of each host at a time, so some wait in the queue.
            ConfigureAdmission = admission => admission.MaxOutboundPerHost = 1,
        });
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var ids = await StartMigrations(host.Services, count, cancellationToken);
            var summaries = await Watch(host.Services.GetRequiredService<IDocumentStore>(), ids, cancellationToken);
            // The hot VM's history shows the policy at work: the downtime ramp, the stall, the switch to post-copy.
            var shown = ids.Count > 1 ? ids[1] : ids[0];
            await using (var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession())
                Render.History(shown, await session.History(shown, cancellationToken));

            var completed = summaries.Count(s => s.State == MigrationStates.Completed);
            AnsiConsole.MarkupLineInterpolated($"[bold]{completed} of {ids.Count} migrations completed.[/]");
            return completed == ids.Count ? ExitCodes.Ok : ExitCodes.MigrationDidNotComplete;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    static async Task<EmbeddedPostgres> StartEmbeddedPostgres(CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine("No PostgreSQL configured: starting a private one for this demo…");
        return await EmbeddedPostgres.StartAsync(cancellationToken);
    }

    static async Task<IReadOnlyList<Guid>> StartMigrations(IServiceProvider services, int count, CancellationToken cancellationToken)
    {
        var endpoint = await services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var source = Hosts[i % Hosts.Length];
            var target = Hosts[(i + 1) % Hosts.Length];
            var vm = $"vm-{i + 1:000}";
            // The hot VM goes hybrid: pre-copy first, post-copy when the policy sees it will not converge.
            var command = vm == HotVm
                ? new StartMigration(NewId.NextGuid(), vm, source, target, HypervisorKinds.Sim, MigrationStrategies.Hybrid,
                    new MigrationPolicy(MaxBandwidthMiBps: 256, AllowPostCopy: true), RequestedBy: "demo")
                : new StartMigration(NewId.NextGuid(), vm, source, target, HypervisorKinds.Sim, MigrationStrategies.Auto,
                    new MigrationPolicy(MaxBandwidthMiBps: 512), RequestedBy: "demo");
            await endpoint.Send(command, cancellationToken);
            ids.Add(command.MigrationId);
        }
        return ids;
    }

    /// <summary>A live table on a terminal; a line per change otherwise.</summary>
    static async Task<IReadOnlyList<MigrationSummary>> Watch(IDocumentStore store, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var seen = new Dictionary<Guid, (string, int)>();
            return await Poll(store, ids, summaries =>
            {
                foreach (var s in summaries.Where(s => !seen.TryGetValue(s.Id, out var last) || last != (s.State, s.Rounds)))
                {
                    seen[s.Id] = (s.State, s.Rounds);
                    Render.ProgressLine(s);
                }
            }, cancellationToken);
        }

        IReadOnlyList<MigrationSummary> result = [];
        await AnsiConsole.Live(Render.SummaryTable([])).StartAsync(async live =>
            result = await Poll(store, ids, summaries =>
            {
                live.UpdateTarget(Render.SummaryTable(summaries));
                live.Refresh();
            }, cancellationToken));
        return result;
    }

    static async Task<IReadOnlyList<MigrationSummary>> Poll(IDocumentStore store, IReadOnlyList<Guid> ids,
        Action<IReadOnlyList<MigrationSummary>> show, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        IReadOnlyList<MigrationSummary> summaries = [];
        while (DateTime.UtcNow < deadline)
        {
            await using (var session = store.QuerySession())
                summaries = await session.Query<MigrationSummary>().Where(s => s.Id.IsOneOf(ids.ToArray())).OrderBy(s => s.VmId).ToListAsync(cancellationToken);
            show(summaries);
            if (summaries.Count == ids.Count && summaries.All(s => s.IsTerminal))
                break;
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        return summaries;
    }
}
