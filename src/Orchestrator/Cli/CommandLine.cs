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
        root.Subcommands.Add(OperatorCommands.Migrate());
        root.Subcommands.Add(OperatorCommands.Cancel());
        root.Subcommands.Add(OperatorCommands.ForceComplete());
        root.Subcommands.Add(OperatorCommands.Status());
        root.Subcommands.Add(OperatorCommands.History());
        root.Subcommands.Add(AuditCommands.Create());
        return root;
    }
}
