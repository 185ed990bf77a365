using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>Checks a <see cref="StartMigration"/> before anything is done; returns every problem, for the sender.</summary>
public static class StartMigrationValidator
{
    public static IReadOnlyList<string> Validate(StartMigration command)
    {
        var problems = new List<string>();
        if (command.MigrationId == Guid.Empty)
            problems.Add("MigrationId is required.");
        if (string.IsNullOrWhiteSpace(command.VmId))
            problems.Add("VmId is required.");
        if (string.IsNullOrWhiteSpace(command.SourceHost))
            problems.Add("SourceHost is required.");
        if (string.IsNullOrWhiteSpace(command.TargetHost))
            problems.Add("TargetHost is required.");
        if (!string.IsNullOrWhiteSpace(command.SourceHost)
            && string.Equals(command.SourceHost, command.TargetHost, StringComparison.OrdinalIgnoreCase))
            problems.Add($"SourceHost and TargetHost are both '{command.SourceHost}': a VM migrates between two different hosts.");
        if (!HypervisorKinds.IsKnown(command.Hypervisor))
            problems.Add($"Hypervisor '{command.Hypervisor}' is unknown; known: {string.Join(", ", HypervisorKinds.All)}.");
        if (command.Strategy is not null && !MigrationStrategies.IsKnown(command.Strategy))
            problems.Add($"Strategy '{command.Strategy}' is unknown; known: {string.Join(", ", MigrationStrategies.All)}.");
        if (command.Policy is { } policy)
            ValidatePolicy(policy, problems);
        return problems;
    }

    static void ValidatePolicy(MigrationPolicy policy, List<string> problems)
    {
        Positive(policy.MaxDowntimeMs, "Policy.MaxDowntimeMs", problems);
        Positive(policy.MaxBandwidthMiBps, "Policy.MaxBandwidthMiBps", problems);
        Positive(policy.CompletionTimeoutSecondsPerGiB, "Policy.CompletionTimeoutSecondsPerGiB", problems);
        Positive(policy.ProgressTimeoutSeconds, "Policy.ProgressTimeoutSeconds", problems);
        if (policy.Priority is < 0 or > 1000)
            problems.Add($"Policy.Priority is {policy.Priority}; it must be between 0 and 1000.");
    }

    static void Positive(int? value, string name, List<string> problems)
    {
        if (value is <= 0)
            problems.Add($"{name} is {value}; it must be greater than zero.");
    }
}
