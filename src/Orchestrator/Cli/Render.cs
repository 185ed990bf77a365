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
    /// <summary>
    /// When standard output is a file or a pipe, nothing Spectre writes is wrapped at a width (80 by default there), and
    /// no live view is drawn into it, even when standard input is a terminal (<c>orchestrator watch | tee log</c>).
    /// </summary>
    public static void ForPipes()
    {
        if (!Tables.Piped)
            return;
        AnsiConsole.Profile.Width = short.MaxValue;
        AnsiConsole.Profile.Capabilities.Interactive = false;
    }

    static readonly string[] SummaryHeaders = ["Migration", "VM", "From", "To", "State", "Round", "Remaining", "Downtime", "Reason"];

    static string?[] SummaryRow(MigrationSummary s) =>
    [
        s.Id.ToString(), s.VmId, s.SourceHost, s.TargetHost, s.State, s.Rounds.ToString(CultureInfo.InvariantCulture), Bytes(s.BytesRemaining),
        s.DowntimeMs is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d:0.#} ms") : string.Create(CultureInfo.InvariantCulture, $"~{s.ExpectedDowntimeMs:0.#} ms"),
        s.Reason,
    ];

    /// <summary>The migrations as a table with whole ids, for a terminal (and its live views).</summary>
    public static Table SummaryTable(IEnumerable<MigrationSummary> summaries) => Tables.Table(SummaryHeaders, summaries.Select(SummaryRow), stateColumn: 4);

    /// <summary>The migrations: a table on a terminal, one plain line each otherwise.</summary>
    public static void Summaries(IEnumerable<MigrationSummary> summaries) => Tables.Write(SummaryHeaders, summaries.Select(SummaryRow), stateColumn: 4);

    /// <summary>One line of progress, for output that is not a terminal (logs, CI): plain text, never wrapped.</summary>
    public static void ProgressLine(MigrationSummary s) => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{s.UpdatedAt.UtcDateTime:HH:mm:ss.fff}  {s.Id}  {s.VmId,-8} {s.SourceHost} → {s.TargetHost}  {s.State,-14} round {s.Rounds,2}  remaining {Bytes(s.BytesRemaining),10}  {(s.DowntimeMs is { } d ? $"downtime {d:0.#} ms" : $"expected downtime {s.ExpectedDowntimeMs:0.#} ms")}  {s.Reason}").TrimEnd());

    public static void Summary(MigrationSummary s)
    {
        List<(string Name, string? Value)> rows =
        [
            ("Migration", s.Id.ToString()),
            ("VM", s.VmId),
            ("State", s.State),
            ("Hypervisor", s.Hypervisor),
            ("From → To", $"{s.SourceHost} → {s.TargetHost}"),
            ("Runs on", s.RunningOn),
            ("Strategy", s.Strategy),
            ("Policy", s.PolicyName),
        ];
        if (s.State == MigrationStates.Queued)
            rows.Add(("Queued", $"#{s.QueuePosition} when it joined: {s.QueueReason}"));
        rows.AddRange(
        [
            ("Downtime limit", s.DowntimeLimitMs is { } limit ? $"{limit} ms, vCPU throttle {s.ThrottlePercent} %" : null),
            ("Rounds", s.Rounds.ToString(CultureInfo.InvariantCulture)),
            ("Transferred", Bytes(s.BytesTransferred)),
            ("Downtime", s.DowntimeMs is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d:0.#} ms") : null),
            ("Duration", s.DurationMs is { } t ? string.Create(CultureInfo.InvariantCulture, $"{t:0} ms") : null),
            ("Requested by", s.RequestedBy),
            ("Reason", s.Reason),
        ]);
        if (Tables.Piped)
        {
            Tables.WritePlain(rows.Select(r => new[] { r.Name, r.Value }));
            return;
        }
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (name, value) in rows)
            grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)),
                name == "State" ? new Markup(StateMarkup(Markup.Escape(value ?? "-"))) : new Text(value ?? "-"));
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
        "DrainedWithProblems" or "not moved" => $"[yellow]{state}[/]",
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
