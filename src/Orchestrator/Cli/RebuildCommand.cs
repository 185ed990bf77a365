using System.CommandLine;
using System.Diagnostics;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Cli;

/// <summary><c>rebuild-summaries</c>: every migration summary rebuilt from the events alone, after a fix to the projection.</summary>
public static class RebuildCommand
{
    public static Command Create()
    {
        var command = new Command("rebuild-summaries",
            "Rebuild every migration summary from the events (one ordered read, documents written in bulk). Stop serve first: "
            + "a migration that moves meanwhile may keep the summary rebuilt before its newest events.");
        command.SetAction((parse, cancellationToken) => AuditCommands.Run(async store =>
        {
            var clock = Stopwatch.StartNew();
            var written = await SummaryRebuild.Run(store, cancellationToken);
            Console.WriteLine($"Rebuilt {written} migration summaries from the events in {clock.Elapsed.TotalSeconds:0.0} s.");
            return ExitCodes.Ok;
        }, cancellationToken, readOnly: false));
        return command;
    }
}
