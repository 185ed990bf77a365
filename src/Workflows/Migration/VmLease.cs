namespace Orchestrator.Workflows.Migration;

/// <summary>
/// The claim a migration holds on a VM while it is active. Its id is the VM id, so two migrations of one VM cannot
/// both insert one, whichever orchestrator instance runs them: the loser's transaction fails and its retry sees the claim.
/// </summary>
public sealed class VmLease
{
    public string Id { get; set; } = string.Empty;
    public Guid MigrationId { get; set; }
    public DateTimeOffset Since { get; set; }
}
