using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Cli;

/// <summary><c>drain HOST</c>: move every VM off a host, as one operation whose progress can be followed.</summary>
public static class DrainCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("host") { Description = "The host to empty." };
        var targets = new Option<string[]>("--to") { Description = "A host the VMs may go to (repeatable; those with room are used).", Required = true };
        var hypervisor = new Option<string>("--hypervisor") { Description = "The hypervisor kind of the hosts.", DefaultValueFactory = _ => HypervisorKinds.Sim }
            .OneOf(HypervisorKinds.All, "a hypervisor kind");
        var wait = new Option<bool>("--wait") { Description = "Follow the drain to its end; exit 3 unless every VM moved." };
        var plan = new Option<bool>("--plan")
        {
            Description = "Start nothing: print the order, each VM's target and bandwidth, and the predicted finish of each VM and of the whole drain.",
        };
        var output = CliOptions.Output();
        var command = new Command("drain", "Move every VM off a host under the admission limits; VMs that cannot move are reported.")
        {
            host, targets, hypervisor, wait, plan, output,
        };
        command.SetAction((parse, cancellationToken) => OperatorCommands.Run(parse, async api =>
        {
            var json = parse.GetValue(output) == "json";
            if (parse.GetValue(plan))
            {
                var planned = await api.Post("/api/drains/plan", new { host = CliInput.Name("Host", parse.GetValue(host)),
                    targets = CliInput.Names("Targets[] (--to)", parse.GetValue(targets)), hypervisor = parse.GetValue(hypervisor) }, cancellationToken);
                if (json)
                    OperatorCommands.WriteJson(planned);
                else
                    WritePlan(planned.Deserialize<Api.DrainPlanView>(OrchestratorApiClient.Json)!);
                return ExitCodes.Ok;
            }
            var accepted = await api.Post("/api/drains", new { host = CliInput.Name("Host", parse.GetValue(host)), targets = CliInput.Names("Targets[] (--to)", parse.GetValue(targets)), hypervisor = parse.GetValue(hypervisor) },
                cancellationToken);
            var drainId = accepted.GetProperty("drainId").GetGuid();
            if (!parse.GetValue(wait))
            {
                if (json)
                    OperatorCommands.WriteJson(accepted);
                else
                    AnsiConsole.MarkupLineInterpolated($"Drain [bold]{drainId}[/] of {parse.GetValue(host)} started. 'orchestrator drain-status {drainId}' shows its progress.");
                return ExitCodes.Ok;
            }
            return await Follow(api, drainId, json, cancellationToken);
        }, cancellationToken));
        return command;
    }

    public static Command Status()
    {
        var id = new Argument<string>("id") { Description = "The drain id, or a prefix of it that only one drain's id starts with." };
        var wait = new Option<bool>("--wait") { Description = "Follow the drain to its end; exit 3 unless every VM moved." };
        var output = CliOptions.Output();
        var command = new Command("drain-status", "Show a drain: its plan, each VM's migration, what could not move.") { id, wait, output };
        command.SetAction((parse, cancellationToken) => OperatorCommands.Run(parse, async api =>
        {
            var drainId = await Ids.Drain(api, parse.GetValue(id)!, cancellationToken);
            if (parse.GetValue(wait))
                return await Follow(api, drainId, parse.GetValue(output) == "json", cancellationToken);
            var progress = await api.Get($"/api/drains/{drainId}", cancellationToken);
            if (parse.GetValue(output) == "json")
                OperatorCommands.WriteJson(progress);
            else if (Tables.Piped)
                Plain(progress.Deserialize<DrainProgress>(OrchestratorApiClient.Json)!);
            else
                AnsiConsole.Write(View(progress.Deserialize<DrainProgress>(OrchestratorApiClient.Json)!));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static async Task<int> Follow(OrchestratorApiClient api, Guid drainId, bool json, CancellationToken cancellationToken)
    {
        var appearBy = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        async Task<(JsonElement Raw, DrainProgress? Progress)> Poll()
        {
            try
            {
                var raw = await api.Get($"/api/drains/{drainId}", cancellationToken);
                return (raw, raw.Deserialize<DrainProgress>(OrchestratorApiClient.Json));
            }
            catch (CliError error) when (error.ExitCode == ExitCodes.NotFound && DateTimeOffset.UtcNow < appearBy)
            {
                return (default, null);   // accepted, not planned yet
            }
        }

        var every = TimeSpan.FromMilliseconds(500);
        DrainProgress? last = null;
        if (json || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            string? lastLine = null;
            while (last is not { IsFinished: true })
            {
                var (raw, progress) = await Poll();
                if (progress is not null)
                {
                    last = progress;
                    var line = json ? JsonSerializer.Serialize(raw) : Line(progress);
                    if (line != lastLine)
                        Console.Out.WriteLine(lastLine = line);
                }
                if (last is not { IsFinished: true })
                    await Task.Delay(every, cancellationToken);
            }
        }
        else
        {
            await AnsiConsole.Live(new Text("Planning the drain…")).AutoClear(false).StartAsync(async live =>
            {
                while (last is not { IsFinished: true })
                {
                    var (_, progress) = await Poll();
                    if (progress is not null)
                        live.UpdateTarget(View(last = progress));
                    if (last is not { IsFinished: true })
                        await Task.Delay(every, cancellationToken);
                }
            });
        }
        return last!.State == DrainProgress.Drained ? ExitCodes.Ok : ExitCodes.MigrationDidNotComplete;
    }

    static string Line(DrainProgress d) => string.Create(CultureInfo.InvariantCulture,
        $"{DateTime.UtcNow:HH:mm:ss}  drain {d.DrainId} of {d.Host}: {d.State}  moved {d.Moved}/{d.Total}  active {d.Active}  not moved {d.NotMoved}{Timing(d)}{(d.Reason is null ? "" : $"  {d.Reason}")}");

    /// <summary>How long the drain has taken beside how long its plan's forecast said it would.</summary>
    static string Timing(DrainProgress d) => d switch
    {
        { ElapsedSeconds: { } elapsed, PredictedTotalSeconds: { } predicted } =>
            FormattableString.Invariant($"  {(d.IsFinished ? "took" : "elapsed")} {elapsed:0.#} s of {predicted:0.#} s predicted"),
        { ElapsedSeconds: { } elapsed } => FormattableString.Invariant($"  {(d.IsFinished ? "took" : "elapsed")} {elapsed:0.#} s"),
        _ => "",
    };

    static readonly string[] ItemHeaders = ["VM", "To", "Migration", "State", "End s (predicted)", "Downtime ms (predicted)", "Reason"];

    /// <summary>"actual (predicted)": either side may be unknown yet.</summary>
    static string? Versus(double? actual, double? predicted, string format) =>
        actual is null && predicted is null ? null
        : $"{actual?.ToString(format, CultureInfo.InvariantCulture) ?? "-"} ({predicted?.ToString(format, CultureInfo.InvariantCulture) ?? "-"})";

    /// <summary>Each VM of the drain, those still moving first, then those that cannot move.</summary>
    static IEnumerable<string?[]> ItemRows(DrainProgress d, int? most = null) =>
        d.Items.Where(i => !MigrationStates.IsTerminal(i.State)).Concat(d.Items.Where(i => MigrationStates.IsTerminal(i.State))).Take(most ?? int.MaxValue)
            .Select(item => new[] { item.VmId, item.TargetHost, item.MigrationId.ToString(), item.State,
                Versus(item.EndedSeconds, item.PredictedEndSeconds, "0.#"), Versus(item.DowntimeMs, item.PredictedDowntimeMs, "0"), item.Reason })
            .Concat(d.Unmovable.Select(problem => new[] { problem.VmId, null, null, "not moved", null, null, problem.Reason }));

    /// <summary>The drain as plain lines, for a pipe: its progress line, then one line per VM.</summary>
    static readonly string[] PlanHeaders = ["#", "VM", "To", "MiB/s", "Start s", "End s", "Downtime ms", "Learned from", "Ending"];

    /// <summary>The plan: a line for the whole drain, then one row per VM (plain lines when piped), then what cannot move.</summary>
    static void WritePlan(Api.DrainPlanView plan)
    {
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Drain plan of {plan.Host}: {plan.Migrations.Count} VMs, predicted to finish in {plan.TotalSeconds:0.#} s over {plan.LinkMiBps:0} MiB/s, at most {plan.MaxAtOnce} at once ({plan.Scheduler}); nothing was started."));
        var rows = plan.Migrations.Select(m => new string?[]
        {
            m.Order.ToString(CultureInfo.InvariantCulture), m.VmId, m.TargetHost, m.BandwidthMiBps.ToString("0", CultureInfo.InvariantCulture),
            m.StartSeconds.ToString("0.#", CultureInfo.InvariantCulture), m.EndSeconds.ToString("0.#", CultureInfo.InvariantCulture),
            m.DowntimeMs.ToString("0", CultureInfo.InvariantCulture),
            m.EarlierMigrations == 0 ? "no history (upper bound)" : $"{m.EarlierMigrations} migrations", m.Outcome,
        });
        if (Tables.Piped)
            Tables.WritePlain([[.. PlanHeaders.Select(h => h.ToUpperInvariant())], .. rows]);
        else
            Tables.Write(PlanHeaders, rows);
        foreach (var problem in plan.Unmovable)
            Console.Out.WriteLine($"cannot move {problem.VmId}: {problem.Reason}");
        foreach (var silent in plan.Unanswered)
            Console.Out.WriteLine($"target {silent} did not answer and was not considered");
    }

    static void Plain(DrainProgress d)
    {
        Console.Out.WriteLine(Line(d));
        Tables.WritePlain([[.. ItemHeaders.Select(h => h.ToUpperInvariant())], .. ItemRows(d)]);
    }

    static IRenderable View(DrainProgress d)
    {
        var table = Tables.Table(ItemHeaders, ItemRows(d, most: 20), stateColumn: 3);
        return new Rows(
            new Markup(Markup.Escape($"Drain {d.DrainId} of {d.Host} → {string.Join(", ", d.Targets)}: ") + Render.StateMarkup(d.State)
                + Markup.Escape($"   moved {d.Moved}/{d.Total}, active {d.Active}, not moved {d.NotMoved}{Timing(d)}")),
            d.Reason is null ? new Text(string.Empty) : new Text(d.Reason),
            table);
    }
}
