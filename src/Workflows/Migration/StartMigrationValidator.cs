using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Checks a <see cref="StartMigration"/> before anything is done and returns every problem, by field, for the sender.
/// The saga and the HTTP API use the same checks, so the API accepts nothing the workflow would reject for a reason
/// it could have seen; the named policies are held to the same rules at start-up (<see cref="Policy.MigrationPolicyOptionsValidator"/>).
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
        // Names become parts of queue names, routing keys and index keys: one grammar, no trimming (InputRules).
        foreach (var (field, member, value) in new[]
        {
            ("vmId", nameof(StartMigration.VmId), command.VmId),
            ("sourceHost", nameof(StartMigration.SourceHost), command.SourceHost),
            ("targetHost", nameof(StartMigration.TargetHost), command.TargetHost),
        })
        {
            if (InputRules.NameProblem(member, value) is { } problem)
                Add(field, problem);
        }
        if (!string.IsNullOrEmpty(command.SourceHost) && string.Equals(command.SourceHost, command.TargetHost, StringComparison.OrdinalIgnoreCase))
            Add("targetHost", $"SourceHost and TargetHost are both {InputRules.Show(command.SourceHost)}: a VM migrates between two different hosts.");
        if (!HypervisorKinds.IsKnown(command.Hypervisor))
            Add("hypervisor", $"Hypervisor {InputRules.Show(command.Hypervisor)} is unknown; known: {string.Join(", ", HypervisorKinds.All)}.");
        if (command.Strategy is not null && !MigrationStrategies.IsKnown(command.Strategy))
            Add("strategy", $"Strategy {InputRules.Show(command.Strategy)} is unknown; known: {string.Join(", ", MigrationStrategies.All)}.");
        if (InputRules.TextProblem(nameof(StartMigration.RequestedBy), command.RequestedBy, InputRules.RequestedByMaxLength) is { } requestedBy)
            Add("requestedBy", requestedBy);
        foreach (var problem in InputRules.LabelProblems(nameof(StartMigration.VmLabels), command.VmLabels))
            Add("vmLabels", problem);
        if (command.Deadline is { } deadline && deadline <= DateTimeOffset.UtcNow)
            Add("deadline", $"Deadline {deadline:O} has passed; a deadline must be in the future.");
        if (command.Policy is { } policy)
            foreach (var (member, problem) in PolicyProblems(policy))
                Add($"policy.{char.ToLowerInvariant(member[0])}{member[1..]}", problem);
        return problems.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    /// <summary>
    /// What is wrong with the members a policy sets (members left out are fine), each with the member's name
    /// (<c>MultifdChannels</c>): the rules for a command's policy and for a named one.
    /// </summary>
    public static IEnumerable<(string Member, string Problem)> PolicyProblems(MigrationPolicy policy)
    {
        foreach (var (member, value) in new[]
        {
            (nameof(MigrationPolicy.MaxDowntimeMs), policy.MaxDowntimeMs),
            (nameof(MigrationPolicy.MaxBandwidthMiBps), policy.MaxBandwidthMiBps),
            (nameof(MigrationPolicy.CompletionTimeoutSecondsPerGiB), policy.CompletionTimeoutSecondsPerGiB),
            (nameof(MigrationPolicy.ProgressTimeoutSeconds), policy.ProgressTimeoutSeconds),
        })
        {
            if (value is <= 0)
                yield return (member, $"Policy.{member} is {value}; it must be greater than zero.");
        }
        if (policy.Priority is < 0 or > 1000)
            yield return (nameof(MigrationPolicy.Priority), $"Policy.Priority is {policy.Priority}; it must be between 0 and 1000.");
        if (policy.MultifdChannels is < 0 or > 255)
            yield return (nameof(MigrationPolicy.MultifdChannels), $"Policy.MultifdChannels is {policy.MultifdChannels}; it must be between 0 (multifd off) and 255.");
        if (policy.DiskMirrorDeadlineSeconds is < 0)
            yield return (nameof(MigrationPolicy.DiskMirrorDeadlineSeconds),
                $"Policy.DiskMirrorDeadlineSeconds is {policy.DiskMirrorDeadlineSeconds}; it must be 0 (no deadline) or more.");
        if (policy.XbzrleCacheMiB is { } cache && (cache < 0 || (cache & (cache - 1)) != 0))
            yield return (nameof(MigrationPolicy.XbzrleCacheMiB),
                $"Policy.XbzrleCacheMiB is {cache}; it must be 0 (XBZRLE off) or a power of two (1, 2, 4, … MiB), as QEMU requires.");
    }
}
