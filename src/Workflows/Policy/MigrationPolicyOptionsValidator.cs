using Microsoft.Extensions.Options;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Policy;

/// <summary>
/// Holds the named policies to the rules a <see cref="Contracts.StartMigration"/>'s policy meets
/// (<see cref="StartMigrationValidator.PolicyProblems"/>), so a bad value in the configuration stops the orchestrator
/// at start-up, naming the policy and the member, instead of reaching QEMU with every migration the policy selects.
/// </summary>
public sealed class MigrationPolicyOptionsValidator : IValidateOptions<MigrationPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, MigrationPolicyOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static IEnumerable<string> Problems(MigrationPolicyOptions options)
    {
        for (var index = 0; index < options.Policies.Count; index++)
        {
            var policy = options.Policies[index];
            var where = $"{MigrationPolicyOptions.Section}:Policies:{index}";
            if (string.IsNullOrEmpty(policy.Name))
                yield return $"{where} has no Name: every named policy needs one (it is recorded with the migrations it selects).";
            else if (InputRules.NameProblem("Name", policy.Name) is { } name)
                yield return $"{where}: {name}";
            var named = InputRules.IsName(policy.Name) ? $"policy '{policy.Name}' ({where})" : where;
            foreach (var problem in InputRules.LabelProblems("VmLabels", policy.VmLabels))
                yield return $"Named {named}: {problem}";
            foreach (var (member, problem) in StartMigrationValidator.PolicyProblems(policy.Policy))
                yield return $"Named {named}, member {member}: {problem}";
        }
    }
}
