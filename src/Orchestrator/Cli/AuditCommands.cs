using System.CommandLine;
using Marten;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>What an auditor runs: re-compute the hash chains and name the first event that does not fit.</summary>
public static class AuditCommands
{
    public static Command Create()
    {
        var audit = new Command("audit", "Check the history: verify the hash chains, replay to a point, export.");
        audit.Subcommands.Add(Verify());
        audit.Subcommands.Add(Replay());
        audit.Subcommands.Add(Export());
        return audit;
    }

    static Command Replay()
    {
        var id = new Argument<Guid>("id") { Description = "The migration id." };
        var version = new Option<long?>("--version") { Description = "The stream version to stop at." };
        var at = new Option<DateTimeOffset?>("--at") { Description = "The moment to stop at (ISO 8601)." };
        var command = new Command("replay", "Show a migration as it stood at a version or a moment, rebuilt from its events.") { id, version, at };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = OperatorCommands.OpenStore(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()));
            await using var session = store.QuerySession();
            var stream = await session.Events.FetchStreamStateAsync(parse.GetValue(id), cancellationToken);
            if (stream is not null && (parse.GetValue(version) is < 1 || parse.GetValue(version) > stream.Version || parse.GetValue(at) < stream.Created))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Migration {parse.GetValue(id)} has versions 1 to {stream.Version}, events from {stream.Created:O} on.[/]");
                return ExitCodes.Usage;
            }
            var summary = await MigrationReplay.AsOf(session, parse.GetValue(id), parse.GetValue(version), parse.GetValue(at), cancellationToken);
            if (summary is null)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]No migration {parse.GetValue(id)}.[/]");
                return ExitCodes.NotFound;
            }
            Render.Summary(summary);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Export()
    {
        var id = new Argument<Guid?>("id") { Description = "A migration id; without it, every migration.", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Events stored at or after this moment." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Events stored before this moment." };
        var command = new Command("export", "Write history as NDJSON to standard output: one event a line, with its metadata and hash chain.") { id, since, until };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = OperatorCommands.OpenStore(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()));
            await using var output = new StreamWriter(Console.OpenStandardOutput());
            await AuditExport.WriteNdjson(store, output, parse.GetValue(id), parse.GetValue(since), parse.GetValue(until), cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Verify()
    {
        var id = new Argument<Guid?>("id") { Description = "A migration id.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every migration." };
        var command = new Command("verify", "Re-compute the hash chain of a migration's events (or of all) and report the first altered, inserted or deleted event.") { id, all };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = OperatorCommands.OpenStore(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()));
            IReadOnlyList<Guid> ids;
            if (parse.GetValue(id) is { } one)
                ids = [one];
            else if (parse.GetValue(all))
            {
                await using var session = store.QuerySession();
                ids = await session.Query<MigrationSummary>().Select(s => s.Id).ToListAsync(cancellationToken);
            }
            else
            {
                AnsiConsole.MarkupLine("[red]Name a migration id, or --all.[/]");
                return ExitCodes.Usage;
            }

            var broken = 0;
            foreach (var migrationId in ids)
            {
                var verdict = await ChainVerifier.Verify(store, migrationId, cancellationToken);
                if (verdict.Events == 0 && parse.GetValue(id) is not null)
                {
                    // A history with no events is not an intact one: nobody knows this migration.
                    AnsiConsole.MarkupLineInterpolated($"[red]No migration {migrationId} is known.[/]");
                    return ExitCodes.NotFound;
                }
                if (verdict.Intact)
                    AnsiConsole.MarkupLineInterpolated($"[green]intact[/]  {migrationId}  {verdict.Events} events");
                else
                {
                    broken++;
                    AnsiConsole.MarkupLineInterpolated($"[red bold]BROKEN[/]  {migrationId}  at event {verdict.FirstBrokenVersion}: {verdict.Problem}");
                }
            }
            AnsiConsole.MarkupLineInterpolated($"{ids.Count - broken} of {ids.Count} histories intact.");
            return broken == 0 ? ExitCodes.Ok : ExitCodes.TamperingFound;
        });
        return command;
    }
}
