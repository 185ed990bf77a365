using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Policy;

/// <summary>The named policies (configuration section <c>MigrationPolicies</c>).</summary>
public sealed class MigrationPolicyOptions
{
    public const string Section = "MigrationPolicies";

    public List<NamedMigrationPolicy> Policies { get; set; } = [];

    /// <summary>The most specific policy that selects the command (the first of equals), or null.</summary>
    public NamedMigrationPolicy? For(StartMigration command) =>
        Policies.Where(p => p.Selects(command)).OrderByDescending(p => p.Specificity).FirstOrDefault();
}
