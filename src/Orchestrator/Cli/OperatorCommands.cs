using System.CommandLine;
using Marten;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Spectre.Console;

namespace Orchestrator.Cli;

/// <summary>
/// What an operator types: start a migration, see where migrations stand, read one's history. They talk to the
/// configured RabbitMQ and PostgreSQL directly.
/// </summary>
public static class OperatorCommands
{
    public static Command Migrate()
    {
        var vm = new Option<string>("--vm") { Description = "The VM to move.", Required = true };
        var from = new Option<string>("--from") { Description = "The host it runs on now.", Required = true };
        var to = new Option<string>("--to") { Description = "The host to move it to.", Required = true };
        var hypervisor = new Option<string>("--hypervisor") { Description = "The hypervisor kind.", DefaultValueFactory = _ => HypervisorKinds.Sim };
        var strategy = new Option<string?>("--strategy") { Description = "precopy, postcopy, hybrid or auto." };
        var maxDowntime = new Option<int?>("--max-downtime-ms") { Description = "The longest pause the VM may see." };
        var maxBandwidth = new Option<int?>("--max-bandwidth-mibps") { Description = "The most the migration may use of the link." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the migration ends and exit non-zero unless it completed." };
        var command = new Command("migrate", "Start a live migration.") { vm, from, to, hypervisor, strategy, maxDowntime, maxBandwidth, wait };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration());
            var start = new StartMigration(NewId.NextGuid(), parse.GetValue(vm)!, parse.GetValue(from)!, parse.GetValue(to)!,
                parse.GetValue(hypervisor)!, parse.GetValue(strategy),
                parse.GetValue(maxDowntime) is null && parse.GetValue(maxBandwidth) is null
                    ? null
                    : new MigrationPolicy(MaxDowntimeMs: parse.GetValue(maxDowntime), MaxBandwidthMiBps: parse.GetValue(maxBandwidth)),
                Environment.UserName);
            await SendCommand(settings, QueueNames.StartMigration, start, cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Migration [bold]{start.MigrationId}[/] requested: {start.VmId} {start.SourceHost} → {start.TargetHost}");
            if (!parse.GetValue(wait))
                return ExitCodes.Ok;

            await using var store = OpenStore(settings);
            var summary = await WaitForEnd(store, start.MigrationId, cancellationToken);
            Render.Summary(summary);
            return summary.State == MigrationStates.Completed ? ExitCodes.Ok : ExitCodes.MigrationDidNotComplete;
        });
        return command;
    }

    public static Command Cancel()
    {
        var id = new Argument<Guid>("id") { Description = "The migration id." };
        var reason = new Option<string?>("--reason") { Description = "Why; recorded in the migration's history." };
        var command = new Command("cancel", "Cancel a migration before its switchover; the VM stays on its source.") { id, reason };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var migrationId = parse.GetValue(id);
            await SendCommand(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()), QueueNames.CancelMigration,
                new CancelMigration(migrationId, parse.GetValue(reason), Environment.UserName), cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Cancel of {migrationId} sent. 'orchestrator history {migrationId}' shows whether it was applied or refused, and why.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command ForceComplete()
    {
        var id = new Argument<Guid>("id") { Description = "The migration id." };
        var command = new Command("force-complete", "Finish a migration that does not converge: post-copy where allowed, else the downtime cap.") { id };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var migrationId = parse.GetValue(id);
            await SendCommand(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()), QueueNames.ForceCompleteMigration,
                new ForceCompleteMigration(migrationId, Environment.UserName), cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"Force-complete of {migrationId} sent. 'orchestrator history {migrationId}' shows what the policy did.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Status()
    {
        var id = new Argument<Guid?>("id") { Description = "A migration id; without it, the most recent migrations.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Show where migrations stand.") { id };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = OpenStore(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()));
            await using var session = store.QuerySession();
            if (parse.GetValue(id) is not { } migrationId)
            {
                Render.Summaries(await session.Recent(50, cancellationToken));
                return ExitCodes.Ok;
            }

            var summary = await session.Summary(migrationId, cancellationToken);
            if (summary is null)
                return NotFound(migrationId);
            Render.Summary(summary);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command History()
    {
        var id = new Argument<Guid>("id") { Description = "The migration id." };
        var command = new Command("history", "Show every event of a migration, in order.") { id };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = OpenStore(OrchestratorSettings.From(OrchestratorSettings.LoadConfiguration()));
            await using var session = store.QuerySession();
            var migrationId = parse.GetValue(id);
            var events = await session.History(migrationId, cancellationToken);
            if (events.Count == 0)
                return NotFound(migrationId);
            Render.History(migrationId, events);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static DocumentStore OpenStore(OrchestratorSettings settings) => DocumentStore.For(options => Roles.Configure(options, settings));

    static async Task<MigrationSummary> WaitForEnd(IDocumentStore store, Guid migrationId, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var session = store.QuerySession();
            if (await session.Summary(migrationId, cancellationToken) is { IsTerminal: true } summary)
                return summary;
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    static async Task SendCommand<T>(OrchestratorSettings settings, string queue, T command, CancellationToken cancellationToken)
        where T : class
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => RabbitMqAddress.Configure(cfg, settings.RabbitMq));
        await bus.StartAsync(cancellationToken);
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queue}"));
            await endpoint.Send(command, cancellationToken);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }

    static int NotFound(Guid migrationId)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]No migration {migrationId}.[/] 'orchestrator status' lists the recent ones.");
        return ExitCodes.NotFound;
    }
}
