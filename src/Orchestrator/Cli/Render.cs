using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JasperFx.Events;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>How the CLI shows migrations on a terminal.</summary>
public static class Render
{
    public static Table SummaryTable(IEnumerable<MigrationSummary> summaries)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Migration", "VM", "From → To", "State", "Round", "Remaining", "Downtime", "Reason");
        foreach (var s in summaries)
        {
            table.AddRow(
                new Text(s.Id.ToString()[..8]),
                new Text(s.VmId ?? "-"),
                new Text($"{s.SourceHost ?? "-"} → {s.TargetHost ?? "-"}"),
                new Markup(StateMarkup(s.State)),
                new Text(s.Rounds.ToString(CultureInfo.InvariantCulture)),
                new Text(Bytes(s.BytesRemaining)),
                new Text(s.DowntimeMs is { } d ? $"{d:0.#} ms" : $"~{s.ExpectedDowntimeMs:0.#} ms"),
                new Text(s.Reason ?? string.Empty));
        }
        return table;
    }

    public static void Summaries(IEnumerable<MigrationSummary> summaries) => AnsiConsole.Write(SummaryTable(summaries));

    /// <summary>One line of progress, for output that is not a terminal (logs, CI).</summary>
    public static void ProgressLine(MigrationSummary s) => AnsiConsole.MarkupLineInterpolated(
        $"{s.UpdatedAt.UtcDateTime:HH:mm:ss.fff}  {s.VmId,-8} {s.SourceHost} → {s.TargetHost}  {s.State,-14} round {s.Rounds,2}  remaining {Bytes(s.BytesRemaining),10}  {(s.DowntimeMs is { } d ? $"downtime {d:0.#} ms" : $"expected downtime {s.ExpectedDowntimeMs:0.#} ms")}  {s.Reason}");

    public static void Summary(MigrationSummary s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, string? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value ?? "-"));
        Row("Migration", s.Id.ToString());
        Row("VM", s.VmId);
        grid.AddRow(new Text("State", new Style(decoration: Decoration.Bold)), new Markup(StateMarkup(s.State)));
        Row("Hypervisor", s.Hypervisor);
        Row("From → To", $"{s.SourceHost} → {s.TargetHost}");
        Row("Runs on", s.RunningOn);
        Row("Strategy", s.Strategy);
        Row("Policy", s.PolicyName);
        if (s.State == MigrationStates.Queued)
            Row("Queued", $"#{s.QueuePosition} when it joined: {s.QueueReason}");
        Row("Downtime limit", s.DowntimeLimitMs is { } limit ? $"{limit} ms, vCPU throttle {s.ThrottlePercent} %" : null);
        Row("Rounds", s.Rounds.ToString(CultureInfo.InvariantCulture));
        Row("Transferred", Bytes(s.BytesTransferred));
        Row("Downtime", s.DowntimeMs is { } d ? $"{d:0.#} ms" : null);
        Row("Duration", s.DurationMs is { } t ? $"{t:0} ms" : null);
        Row("Requested by", s.RequestedBy);
        Row("Reason", s.Reason);
        AnsiConsole.Write(new Panel(grid).Header("migration").Border(BoxBorder.Rounded));
    }

    /// <summary>A migration's events as the event store holds them (the demo, which runs in one process).</summary>
    public static void History(Guid migrationId, IEnumerable<IEvent> events)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]History of migration {migrationId}[/]");
        foreach (var e in events)
        {
            AnsiConsole.MarkupLineInterpolated(
                $"{e.Version,4}  {e.Timestamp.UtcDateTime:HH:mm:ss.fff}  [bold]{e.EventType.Name,-24}[/] {Details(e.Data)}");
        }
    }

    /// <summary>A migration's events as the API returns them (<c>GET /api/migrations/{id}/events</c>).</summary>
    public static void History(Guid migrationId, JsonElement events)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]History of migration {migrationId}[/]");
        foreach (var e in events.EnumerateArray())
        {
            var data = JsonNode.Parse(e.GetProperty("data").GetRawText())!;
            AnsiConsole.MarkupLineInterpolated(
                $"{e.GetProperty("version").GetInt64(),4}  {e.GetProperty("timestamp").GetDateTimeOffset().UtcDateTime:HH:mm:ss.fff}  [bold]{e.GetProperty("type").GetString(),-24}[/] {Details(data)}");
        }
    }

    /// <summary>An event's members as <c>Name=value</c>, without the id and timestamp every event carries.</summary>
    public static string Details(object data) => Details(JsonSerializer.SerializeToNode(data, data.GetType()));

    static string Details(JsonNode? data)
    {
        var members = data?.AsObject() ?? [];
        return string.Join(" ", members
            .Where(m => !m.Key.Equals("MigrationId", StringComparison.OrdinalIgnoreCase) && !m.Key.Equals("Timestamp", StringComparison.OrdinalIgnoreCase) && m.Value is not null)
            .Select(m => $"{m.Key}={Format(m.Value!)}"));
    }

    static string Format(JsonNode value) => value switch
    {
        JsonObject obj => "{" + string.Join(" ", obj.Where(m => m.Value is not null).Select(m => $"{m.Key}={Format(m.Value!)}")) + "}",
        JsonValue number when number.TryGetValue<double>(out var d) => d.ToString("0.##", CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    public static string StateMarkup(string state) => state switch
    {
        MigrationStates.Completed => $"[green]{state}[/]",
        MigrationStates.Failed => $"[red bold]{state}[/]",
        MigrationStates.RolledBack or MigrationStates.Cancelled or MigrationStates.Rejected => $"[yellow]{state}[/]",
        MigrationStates.Reconciling => $"[magenta]{state}[/]",
        "Drained" => $"[green]{state}[/]",
        "DrainedWithProblems" => $"[yellow]{state}[/]",
        _ => $"[blue]{state}[/]",
    };

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
