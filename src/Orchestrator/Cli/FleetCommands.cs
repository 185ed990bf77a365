using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Statistics;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// The operators' dashboards, read through the API (<c>/api/attention</c>, <c>/api/hosts</c>, <c>/api/statistics</c>):
/// what needs a person, what each host is doing, what the fleet's migrations came to.
/// </summary>
public static class FleetCommands
{
    const int MaxStuckAfterSeconds = 7 * 24 * 3600;

    public static Command Attention()
    {
        var stuckAfter = new Option<int?>("--stuck-after-seconds") { Description = "A running migration without an event for this long is stuck (default: serve's Attention:StuckAfter)." }
            .Within(1, MaxStuckAfterSeconds);
        var output = CliOptions.Output();
        var command = new Command("attention", "What needs an operator: failed migrations (VM lost, rollback failed), stuck ones, and those with a dead letter.") { stuckAfter, output };
        command.SetAction((parse, cancellationToken) => OperatorCommands.Run(parse, async api =>
        {
            var entries = await api.Get($"/api/attention{OperatorCommands.Query(("stuckAfterSeconds", parse.GetValue(stuckAfter)?.ToString(CultureInfo.InvariantCulture)))}", cancellationToken);
            if (OperatorCommands.IsJson(parse, output))
            {
                OperatorCommands.WriteJson(entries);
                return ExitCodes.Ok;
            }
            var items = entries.Deserialize<List<AttentionEntry>>(OrchestratorApiClient.Json)!;
            if (items.Count == 0 && !Tables.Piped)
            {
                AnsiConsole.MarkupLine("[green]Nothing needs attention.[/]");
                return ExitCodes.Ok;
            }
            Tables.Write(["Migration", "VM", "Kind", "State", "From", "To", "Runs on", "Last event", "Reason"],
                items.Select(e => new[]
                {
                    e.MigrationId.ToString(), e.VmId, e.Kind, e.State, e.SourceHost, e.TargetHost, e.VmRunningOn,
                    $"{Time(e.LastEventAt)} {e.LastEventType}", e.Reason,
                }), stateColumn: 3);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    public static Command Hosts()
    {
        var name = new Argument<string?>("host") { Description = "One host: its load and the migrations that make it up.", Arity = ArgumentArity.ZeroOrOne };
        var output = CliOptions.Output();
        var command = new Command("hosts", "Active and queued migrations, in and out, per host (host load trails the events by a moment).") { name, output };
        command.SetAction((parse, cancellationToken) => OperatorCommands.Run(parse, async api =>
        {
            if (parse.GetValue(name) is { } host)
                return await OneHost(api, CliInput.Name("Host", host), OperatorCommands.IsJson(parse, output), cancellationToken);
            var loads = await api.Get("/api/hosts", cancellationToken);
            if (OperatorCommands.IsJson(parse, output))
            {
                OperatorCommands.WriteJson(loads);
                return ExitCodes.Ok;
            }
            Tables.Write(["Host", "Active out", "Active in", "Queued out", "Queued in", "Total out", "Total in", "Updated"],
                loads.Deserialize<List<HostLoad>>(OrchestratorApiClient.Json)!.Select(h => new[]
                {
                    h.Id, Count(h.ActiveOutbound), Count(h.ActiveInbound), Count(h.QueuedOutbound), Count(h.QueuedInbound),
                    Count(h.TotalOutbound), Count(h.TotalInbound), Time(h.UpdatedAt),
                }));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static async Task<int> OneHost(OrchestratorApiClient api, string host, bool json, CancellationToken cancellationToken)
    {
        var load = await api.Get($"/api/hosts/{Uri.EscapeDataString(host)}", cancellationToken);
        if (json)
        {
            OperatorCommands.WriteJson(load);
            return ExitCodes.Ok;
        }
        var h = load.Deserialize<HostLoad>(OrchestratorApiClient.Json)!;
        Tables.WritePairs(
        [
            ("Host", h.Id),
            ("Active", $"{h.ActiveOutbound} out, {h.ActiveInbound} in"),
            ("Queued", $"{h.QueuedOutbound} out, {h.QueuedInbound} in"),
            ("Total", $"{h.TotalOutbound} out, {h.TotalInbound} in"),
            ("Updated", Time(h.UpdatedAt)),
        ]);
        Tables.Write(["Migration", "VM", "Direction", "Status", "Since"],
            h.Migrations.Select(m => new[] { m.MigrationId.ToString(), m.VmId, m.Direction, m.Status, Time(m.Since) }));
        return ExitCodes.Ok;
    }

    public static Command Stats()
    {
        var hypervisor = new Option<string?>("--hypervisor") { Description = "Only migrations on this hypervisor kind." }.OneOf(HypervisorKinds.All, "a hypervisor kind");
        var strategy = new Option<string?>("--strategy") { Description = "Only migrations of this strategy." }.OneOf(MigrationStrategies.All, "a strategy");
        var since = new Option<DateTimeOffset?>("--since") { Description = "Requested at or after this moment (ISO 8601)." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Requested before this moment (ISO 8601)." };
        var output = CliOptions.Output();
        var command = new Command("stats", "What the migrations came to: how many per state; downtime percentiles and time per GiB of the completed ones.")
            { hypervisor, strategy, since, until, output };
        command.SetAction((parse, cancellationToken) => OperatorCommands.Run(parse, async api =>
        {
            var query = OperatorCommands.Query(("hypervisor", parse.GetValue(hypervisor)), ("strategy", parse.GetValue(strategy)),
                ("since", parse.GetValue(since)?.ToString("O")), ("until", parse.GetValue(until)?.ToString("O")));
            var statistics = await api.Get($"/api/statistics{query}", cancellationToken);
            if (OperatorCommands.IsJson(parse, output))
            {
                OperatorCommands.WriteJson(statistics);
                return ExitCodes.Ok;
            }
            var s = statistics.Deserialize<FleetStatistics>(OrchestratorApiClient.Json)!;
            Tables.Write(["State", "Migrations"],
                s.States.OrderByDescending(p => p.Value).Select(p => new[] { p.Key, Count(p.Value) }).Append(["all", Count(s.Migrations)]), stateColumn: 0);
            Tables.Write(["Hypervisor", "Strategy", "Completed", "Downtime p50", "p90", "p99", "s/GiB"],
                s.Completed.Select(c => new[]
                {
                    c.Hypervisor ?? "all", c.Strategy ?? "all", Count(c.Completed), Ms(c.DowntimeP50Ms), Ms(c.DowntimeP90Ms), Ms(c.DowntimeP99Ms),
                    c.SecondsPerGiB?.ToString("0.##", CultureInfo.InvariantCulture),
                }));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    static string? Ms(double? ms) => ms is { } value ? string.Create(CultureInfo.InvariantCulture, $"{value:0.#} ms") : null;

    static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
