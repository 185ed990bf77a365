using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JasperFx.Events;
using Orchestrator.Contracts;
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
            HistoryLine(e.Version, e.Timestamp, e.EventType.Name, JsonSerializer.SerializeToNode(e.Data, e.Data.GetType()));
    }

    /// <summary>A migration's events as the API returns them (<c>GET /api/migrations/{id}/events</c>).</summary>
    public static void History(Guid migrationId, JsonElement events)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]History of migration {migrationId}[/]");
        foreach (var e in events.EnumerateArray())
        {
            HistoryLine(e.GetProperty("version").GetInt64(), e.GetProperty("timestamp").GetDateTimeOffset(), e.GetProperty("type").GetString() ?? "?",
                JsonNode.Parse(e.GetProperty("data").GetRawText()));
        }
    }

    /// <summary>
    /// One event of a history: a state change (the last event of each transition) as the arrow it is, in the state's
    /// colour; any other event with its members.
    /// </summary>
    static void HistoryLine(long version, DateTimeOffset timestamp, string type, JsonNode? data)
    {
        var what = type == nameof(MigrationStateChanged) && data is JsonObject change
            ? $"{Markup.Escape(Member(change, nameof(MigrationStateChanged.FromState)) ?? "(new)")} → "
              + StateMarkup(Markup.Escape(Member(change, nameof(MigrationStateChanged.ToState)) ?? "?"))
            : Markup.Escape(Details(data));
        AnsiConsole.MarkupLine($"{version,4}  {timestamp.UtcDateTime:HH:mm:ss.fff}  [bold]{Markup.Escape(type),-24}[/] {what}");
    }

    /// <summary>A string member, whatever the case of its name (the API writes camelCase, the event store PascalCase).</summary>
    static string? Member(JsonObject data, string name) =>
        data.FirstOrDefault(m => m.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value?.GetValue<string>();

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
