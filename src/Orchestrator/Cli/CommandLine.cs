using System.CommandLine;

namespace Orchestrator.Cli;

/// <summary>The <c>orchestrator</c> command tree: the roles (serve, worker, demo), the operator commands and the audit.</summary>
public static class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Orchestrator: moves running virtual machines between hosts by live migration.");
        root.Subcommands.Add(RoleCommands.Serve());
        root.Subcommands.Add(RoleCommands.Worker());
        root.Subcommands.Add(DemoCommand.Create());
        // The commands that talk to serve's HTTP API, and only they, take --api.
        Command[] operatorCommands =
        [
            OperatorCommands.Migrate(), OperatorCommands.List(), OperatorCommands.Show(), OperatorCommands.Watch(), OperatorCommands.History(),
            OperatorCommands.Cancel(), OperatorCommands.ForceComplete(), OperatorCommands.Retry(), OperatorCommands.Recover(),
            DrainCommand.Create(), DrainCommand.Status(), FleetCommands.Attention(), FleetCommands.Hosts(), FleetCommands.Stats(),
        ];
        foreach (var command in operatorCommands)
        {
            command.Options.Add(OperatorCommands.Api);
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(AuditCommands.Create());
        root.Subcommands.Add(RebuildCommand.Create());
        return root;
    }
}
