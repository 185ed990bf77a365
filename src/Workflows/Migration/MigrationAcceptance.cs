using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Migration;

/// <summary>What a <see cref="StartMigration"/> sets on a new migration, and whether it can be accepted at all.</summary>
public static class MigrationAcceptance
{
    /// <summary>
    /// Takes the command's hosts, the policy in force (the command's values, else the named policy's, else the defaults)
    /// and the strategy; a command that fails validation leaves the saga marked rejected, with every problem as the reason.
    /// A rejected command's values are kept clipped (<see cref="InputRules.Clip"/>): the rejection is stored in a JSON
    /// document, an indexed summary and a published event, and none of them may receive a 200 KB name or a NUL.
    /// </summary>
    public static void Accept(this MigrationState saga, StartMigration command, MigrationPolicyOptions policies)
    {
        var problems = StartMigrationValidator.Validate(command);
        var valid = problems.Count == 0;
        string Kept(string? value) => (valid ? value : InputRules.Clip(value)) ?? string.Empty;

        var named = valid ? policies.For(command) : null;
        saga.PolicyName = named?.Name;
        saga.VmId = Kept(command.VmId);
        saga.SourceHost = Kept(command.SourceHost);
        saga.TargetHost = Kept(command.TargetHost);
        saga.Hypervisor = Kept(command.Hypervisor);
        saga.Policy = EffectivePolicy.From(valid ? command.Policy : null, named?.Policy, saga.Hypervisor);
        saga.Strategy = saga.Policy.StrategyFor(valid ? command.Strategy : null);
        saga.RequestedBy = valid ? command.RequestedBy : InputRules.Clip(command.RequestedBy);
        saga.RequestedAt = DateTimeOffset.UtcNow;
        saga.Deadline = valid ? command.Deadline?.ToUniversalTime() : null;
        saga.RunningOn = saga.SourceHost;

        if (!valid)
        {
            saga.RejectionCode = RejectionCodes.InvalidCommand;
            saga.Reason = string.Join(" ", problems);
        }
    }
}
