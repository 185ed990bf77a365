using System.CommandLine;

namespace Orchestrator.Cli;

/// <summary>The <c>orchestrator</c> command tree: the roles (serve, worker, demo) and the operator commands.</summary>
public static class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Orchestrator: moves running virtual machines between hosts by live migration.");
        root.Subcommands.Add(RoleCommands.Serve());
        root.Subcommands.Add(RoleCommands.Worker());
        root.Subcommands.Add(DemoCommand.Create());
        root.Options.Add(OperatorCommands.Api);
        root.Subcommands.Add(OperatorCommands.Migrate());
        root.Subcommands.Add(OperatorCommands.List());
        root.Subcommands.Add(OperatorCommands.Show());
        root.Subcommands.Add(OperatorCommands.Watch());
        root.Subcommands.Add(OperatorCommands.History());
        root.Subcommands.Add(OperatorCommands.Cancel());
        root.Subcommands.Add(OperatorCommands.ForceComplete());
        root.Subcommands.Add(OperatorCommands.Retry());
        root.Subcommands.Add(OperatorCommands.Recover());
        root.Subcommands.Add(DrainCommand.Create());
        root.Subcommands.Add(DrainCommand.Status());
        root.Subcommands.Add(AuditCommands.Create());
        return root;
    }
}
