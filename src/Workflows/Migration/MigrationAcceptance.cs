using Orchestrator.Contracts;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>What a <see cref="StartMigration"/> sets on a new migration, and whether it can be accepted at all.</summary>
public static class MigrationAcceptance
{
    /// <summary>
    /// Takes the command's hosts, the policy in force (the command's values, else the named policy's, else the defaults)
    /// and the strategy; a command that fails validation leaves the saga marked rejected, with every problem as the reason.
    /// </summary>
    public static void Accept(this MigrationState saga, StartMigration command, MigrationPolicyOptions policies)
    {
        var named = policies.For(command);
        saga.PolicyName = named?.Name;
        saga.VmId = command.VmId ?? string.Empty;
        saga.SourceHost = command.SourceHost ?? string.Empty;
        saga.TargetHost = command.TargetHost ?? string.Empty;
        saga.Hypervisor = command.Hypervisor ?? string.Empty;
        saga.Policy = EffectivePolicy.From(command.Policy, named?.Policy);
        saga.Strategy = saga.Policy.StrategyFor(command.Strategy);
        saga.RequestedBy = command.RequestedBy;
        saga.RequestedAt = DateTimeOffset.UtcNow;
        saga.RunningOn = saga.SourceHost;

        var problems = StartMigrationValidator.Validate(command);
        if (problems.Count > 0)
        {
            saga.RejectionCode = RejectionCodes.InvalidCommand;
            saga.Reason = string.Join(" ", problems);
        }
    }
}
