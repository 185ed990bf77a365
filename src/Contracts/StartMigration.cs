namespace Orchestrator.Contracts;

/// <summary>
/// Asks the orchestrator to move a running VM from <see cref="SourceHost"/> to <see cref="TargetHost"/>.
/// Idempotent by <see cref="MigrationId"/>: sending the same command twice starts one migration.
/// </summary>
/// <param name="Strategy">One of <see cref="MigrationStrategies"/>; null means <c>auto</c>.</param>
/// <param name="Policy">Limits for this migration; what is left out comes from the named policy that selects it, then the defaults.</param>
/// <param name="VmLabels">The VM's labels, which named policies can select on (as KubeVirt's MigrationPolicy does).</param>
/// <param name="Deadline">
/// When the migration must have ended, if it must: admission orders waiting migrations by priority, then deadline, then
/// age, and one predicted to end after it is rejected before any host is touched. It must be in the future when sent.
/// </param>
public sealed record StartMigration(
    Guid MigrationId,
    string VmId,
    string SourceHost,
    string TargetHost,
    string Hypervisor,
    string? Strategy = null,
    MigrationPolicy? Policy = null,
    string? RequestedBy = null,
    IReadOnlyDictionary<string, string>? VmLabels = null,
    DateTimeOffset? Deadline = null,
    int SchemaVersion = 1);
