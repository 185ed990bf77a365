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
        var audit = new Command("audit", "Check the history: hash-chain verification.");
        audit.Subcommands.Add(Verify());
        return audit;
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
