using System.Globalization;
using System.Text.Json;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Cli;

/// <summary>
/// <c>watch</c>: follows migrations through the API. On a terminal it draws a live view (a panel with a progress bar for
/// one migration, a table for many); piped, it writes a line (or, with json, a summary) each time something changes.
/// </summary>
public static class Watcher
{
    /// <summary>Follows one migration to its end; exit 0 when it completed, 3 when it ended otherwise.</summary>
    public static async Task<int> Follow(OrchestratorApiClient api, Guid migrationId, bool json, TimeSpan every,
        CancellationToken cancellationToken, Func<MigrationSummary, bool>? begun = null, bool justStarted = false)
    {
        begun ??= _ => true;
        MigrationSummary? last = null;
        // A command just accepted reaches the workflow a moment later: until then the migration is not known yet.
        var appearBy = DateTimeOffset.UtcNow + (justStarted ? TimeSpan.FromSeconds(30) : TimeSpan.Zero);
        async Task<JsonElement> Get()
        {
            while (true)
            {
                try
                {
                    return await api.Get($"/api/migrations/{migrationId}", cancellationToken);
                }
                catch (CliError error) when (error.ExitCode == ExitCodes.NotFound && last is null && DateTimeOffset.UtcNow < appearBy)
                {
                    await Task.Delay(every, cancellationToken);
                }
            }
        }

        async Task<(MigrationSummary Summary, bool Changed)> Poll()
        {
            var element = await Get();
            var summary = element.Deserialize<MigrationSummary>(OrchestratorApiClient.Json)!;
            var changed = last is null || summary.LastEventVersion != last.LastEventVersion || summary.State != last.State;
            last = summary;
            if (changed && json)
                OperatorCommands.WriteJson(element, indented: false);
            return (summary, changed);
        }

        bool Ended(MigrationSummary s) => s.IsTerminal && begun(s);

        if (json || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            while (true)
            {
                var (summary, changed) = await Poll();
                if (changed && !json)
                    Render.ProgressLine(summary);
                if (Ended(summary))
                    return Outcome(summary);
                await Task.Delay(every, cancellationToken);
            }
        }

        var (first, _) = await Poll();
        var final = first;
        await AnsiConsole.Live(View(first)).AutoClear(false).StartAsync(async live =>
        {
            while (!Ended(final))
            {
                await Task.Delay(every, cancellationToken);
                (final, _) = await Poll();
                live.UpdateTarget(View(final));
            }
        });
        return Outcome(final);
    }

    /// <summary>A live table of the most recent migrations, active ones first, until Ctrl-C.</summary>
    public static async Task<int> Fleet(OrchestratorApiClient api, bool json, TimeSpan every, CancellationToken cancellationToken)
    {
        async Task<List<MigrationSummary>> Poll()
        {
            var page = await api.Get("/api/migrations?pageSize=30", cancellationToken);
            return page.GetProperty("items").Deserialize<List<MigrationSummary>>(OrchestratorApiClient.Json)!
                .OrderBy(s => s.IsTerminal).ThenByDescending(s => s.UpdatedAt).ToList();
        }

        if (json || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var seen = new Dictionary<Guid, long>();
            while (!cancellationToken.IsCancellationRequested)
            {
                foreach (var summary in (await Poll()).Where(s => !seen.TryGetValue(s.Id, out var v) || v != s.LastEventVersion))
                {
                    seen[summary.Id] = summary.LastEventVersion;
                    if (json)
                        Console.Out.WriteLine(JsonSerializer.Serialize(summary, OrchestratorApiClient.Json));
                    else
                        Render.ProgressLine(summary);
                }
                await Task.Delay(every, cancellationToken);
            }
            return ExitCodes.Ok;
        }

        await AnsiConsole.Live(FleetView(await Poll())).AutoClear(false).StartAsync(async live =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(every, cancellationToken);
                live.UpdateTarget(FleetView(await Poll()));
            }
        });
        return ExitCodes.Ok;
    }

    static int Outcome(MigrationSummary summary) =>
        summary.State == MigrationStates.Completed ? ExitCodes.Ok : ExitCodes.MigrationDidNotComplete;

    static IRenderable FleetView(List<MigrationSummary> summaries)
    {
        var active = summaries.Count(s => !s.IsTerminal);
        return new Rows(
            new Markup($"[bold]{active} active[/], {summaries.Count - active} recently ended   [grey]{DateTime.UtcNow:HH:mm:ss} UTC, Ctrl-C to stop[/]"),
            Render.SummaryTable(summaries));
    }

    /// <summary>One migration: phase, a progress bar over the memory still to send, round, rates and downtimes.</summary>
    public static IRenderable View(MigrationSummary s)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Markup(value));
        Row("Phase", Render.StateMarkup(s.State));
        Row("Progress", Bar(s));
        Row("Round", s.Rounds.ToString(CultureInfo.InvariantCulture));
        Row("Remaining", Markup.Escape(Render.Bytes(s.BytesRemaining)));
        Row("Dirty rate", Markup.Escape($"{Render.Bytes(s.DirtyRateBytesPerSecond)}/s"));
        Row("Bandwidth", Markup.Escape($"{Render.Bytes(s.BandwidthBytesPerSecond)}/s"));
        Row("Downtime", Markup.Escape(s.DowntimeMs is { } d ? $"{d:0.#} ms" : $"expected {s.ExpectedDowntimeMs:0.#} ms (limit {s.DowntimeLimitMs?.ToString(CultureInfo.InvariantCulture) ?? "-"} ms, throttle {s.ThrottlePercent} %)"));
        if (s.Reason is not null)
            Row("Reason", Markup.Escape(s.Reason));
        return new Panel(grid)
            .Header(Markup.Escape($" {s.VmId}: {s.SourceHost} → {s.TargetHost} ({s.Id}) "))
            .Border(BoxBorder.Rounded);
    }

    /// <summary>How much of the VM's memory is across: transferred over memory size, or 100 % once it runs on the target.</summary>
    static string Bar(MigrationSummary s, int width = 30)
    {
        var memory = s.MemoryBytes ?? 0;
        var fraction = s.State is MigrationStates.Completed or MigrationStates.CleaningUp ? 1.0
            : memory > 0 && s.Rounds > 0 ? Math.Clamp(1.0 - s.BytesRemaining / (double)memory, 0, 1)
            : 0;
        var filled = (int)Math.Round(fraction * width);
        return $"[green]{new string('█', filled)}[/][grey]{new string('░', width - filled)}[/] {fraction * 100:0} %";
    }
}
