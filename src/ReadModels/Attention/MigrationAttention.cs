namespace Orchestrator.ReadModels.Attention;

/// <summary>
/// A migration that is not over, or that failed and waits for an operator: what the attention queue is made from.
/// Migrations that ended well (completed, rolled back, cancelled, rejected) have no such document, unless a message of
/// theirs was set aside as a dead letter.
/// </summary>
public sealed class MigrationAttention
{
    public Guid Id { get; set; }
    public string? VmId { get; set; }
    public string? Hypervisor { get; set; }
    public string? SourceHost { get; set; }
    public string? TargetHost { get; set; }

    /// <summary>The migration's state as far as the events say (the summary's state names).</summary>
    public string State { get; set; } = string.Empty;

    /// <summary>Null while the migration runs; one of <see cref="AttentionKinds"/> once it failed.</summary>
    public string? Kind { get; set; }

    public string? Reason { get; set; }

    /// <summary>The state the migration was in when it failed.</summary>
    public string? FailedIn { get; set; }

    /// <summary>Where the VM runs as far as the orchestrator knows; null after a failure means unknown.</summary>
    public string? VmRunningOn { get; set; }

    /// <summary>True once the migration ended well; its document stays only for a dead letter.</summary>
    public bool Ended { get; set; }

    /// <summary>The last message of the migration set aside as a dead letter; null when none was.</summary>
    public Guid? DeadLetterId { get; set; }

    /// <summary>What was set aside and why, in one line.</summary>
    public string? DeadLetterReason { get; set; }

    public DateTimeOffset? DeadLetterAt { get; set; }

    public DateTimeOffset LastEventAt { get; set; }
    public string? LastEventType { get; set; }
}
