namespace Orchestrator.Contracts;

/// <summary>What a recovery decided (<see cref="MigrationReconciled.Verdict"/>).</summary>
public static class RecoveryVerdicts
{
    /// <summary>A start-up check found the hosts in agreement with the migration's state: nothing changes.</summary>
    public const string Continue = "continue";

    /// <summary>The VM runs on the target: the source is cleaned up and the migration completes.</summary>
    public const string Finish = "finish";

    /// <summary>The VM is whole on the source: the transfer is aborted, the target removed, the migration rolled back.</summary>
    public const string RollBack = "roll-back";

    /// <summary>No host runs the VM and none can resume it whole: the migration fails with the VM reported lost.</summary>
    public const string Lost = "lost";

    /// <summary>A host did not answer and no host runs the VM: nothing is decided; recover again once the host answers.</summary>
    public const string Unknown = "unknown";
}
