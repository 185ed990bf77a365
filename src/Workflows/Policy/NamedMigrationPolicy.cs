using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Policy;

/// <summary>
/// A policy that applies to the migrations it selects (by hypervisor, VM labels, minimum priority), as KubeVirt's
/// MigrationPolicy does. Selector terms left empty match everything.
/// </summary>
public sealed class NamedMigrationPolicy
{
    public string Name { get; set; } = string.Empty;

    public string? Hypervisor { get; set; }

    public Dictionary<string, string> VmLabels { get; set; } = [];

    public int? MinPriority { get; set; }

    public MigrationPolicy Policy { get; set; } = new();

    public bool Selects(StartMigration command) =>
        (Hypervisor is null || string.Equals(Hypervisor, command.Hypervisor, StringComparison.OrdinalIgnoreCase))
        && (MinPriority is null || (command.Policy?.Priority ?? 0) >= MinPriority)
        && VmLabels.All(label => command.VmLabels is not null
            && command.VmLabels.TryGetValue(label.Key, out var value) && value == label.Value);

    /// <summary>How specific the selector is: the most specific matching policy wins.</summary>
    public int Specificity => (Hypervisor is null ? 0 : 1) + (MinPriority is null ? 0 : 1) + VmLabels.Count;
}
