using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Checks a <see cref="StartMigration"/> before anything is done and returns every problem, by field, for the sender.
/// The saga and the HTTP API use the same checks, so the API accepts nothing the workflow would reject for a reason
/// it could have seen.
/// </summary>
public static class StartMigrationValidator
{
    public static IReadOnlyList<string> Validate(StartMigration command) =>
        [.. ValidateFields(command).SelectMany(field => field.Value)];

    public static IReadOnlyDictionary<string, string[]> ValidateFields(StartMigration command)
    {
        var problems = new Dictionary<string, List<string>>();
        void Add(string field, string problem) => (problems.TryGetValue(field, out var list) ? list : problems[field] = []).Add(problem);

        if (command.MigrationId == Guid.Empty)
            Add("migrationId", "MigrationId is required.");
        if (string.IsNullOrWhiteSpace(command.VmId))
            Add("vmId", "VmId is required.");
        if (string.IsNullOrWhiteSpace(command.SourceHost))
            Add("sourceHost", "SourceHost is required.");
        if (string.IsNullOrWhiteSpace(command.TargetHost))
            Add("targetHost", "TargetHost is required.");
        if (!string.IsNullOrWhiteSpace(command.SourceHost)
            && string.Equals(command.SourceHost, command.TargetHost, StringComparison.OrdinalIgnoreCase))
            Add("targetHost", $"SourceHost and TargetHost are both '{command.SourceHost}': a VM migrates between two different hosts.");
        if (!HypervisorKinds.IsKnown(command.Hypervisor))
            Add("hypervisor", $"Hypervisor '{command.Hypervisor}' is unknown; known: {string.Join(", ", HypervisorKinds.All)}.");
        if (command.Strategy is not null && !MigrationStrategies.IsKnown(command.Strategy))
            Add("strategy", $"Strategy '{command.Strategy}' is unknown; known: {string.Join(", ", MigrationStrategies.All)}.");
        if (command.Policy is { } policy)
        {
            Positive(policy.MaxDowntimeMs, "policy.maxDowntimeMs", "Policy.MaxDowntimeMs", Add);
            Positive(policy.MaxBandwidthMiBps, "policy.maxBandwidthMiBps", "Policy.MaxBandwidthMiBps", Add);
            Positive(policy.CompletionTimeoutSecondsPerGiB, "policy.completionTimeoutSecondsPerGiB", "Policy.CompletionTimeoutSecondsPerGiB", Add);
            Positive(policy.ProgressTimeoutSeconds, "policy.progressTimeoutSeconds", "Policy.ProgressTimeoutSeconds", Add);
            if (policy.Priority is < 0 or > 1000)
                Add("policy.priority", $"Policy.Priority is {policy.Priority}; it must be between 0 and 1000.");
            if (policy.MultifdChannels is < 0 or > 255)
                Add("policy.multifdChannels", $"Policy.MultifdChannels is {policy.MultifdChannels}; it must be between 0 (multifd off) and 255.");
            if (policy.XbzrleCacheMiB is { } cache && (cache < 0 || (cache & (cache - 1)) != 0))
                Add("policy.xbzrleCacheMiB", $"Policy.XbzrleCacheMiB is {cache}; it must be 0 (XBZRLE off) or a power of two (1, 2, 4, … MiB), as QEMU requires.");
        }
        return problems.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    static void Positive(int? value, string field, string name, Action<string, string> add)
    {
        if (value is <= 0)
            add(field, $"{name} is {value}; it must be greater than zero.");
    }
}
