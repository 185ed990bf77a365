namespace Orchestrator.ReadModels.Attention;

/// <summary>Why a migration is on the operators' attention queue.</summary>
public static class AttentionKinds
{
    /// <summary>Failed: cleanup or another step could not be confirmed; the VM's place is known.</summary>
    public const string Failed = "failed";

    /// <summary>Failed after post-copy began: neither host alone holds the VM.</summary>
    public const string VmLost = "vm-lost";

    /// <summary>Failed while rolling back: the transfer could not be stopped or the target removed.</summary>
    public const string RollbackFailed = "rollback-failed";

    /// <summary>
    /// A message of the migration was set aside as a dead letter (a command no worker could be sent, an input that could
    /// not be applied): shown for a while even when the migration ended well, since a host may need a look.
    /// </summary>
    public const string DeadLetter = "dead-letter";

    /// <summary>Not over, and no event for longer than the configured threshold.</summary>
    public const string Stuck = "stuck";
}
