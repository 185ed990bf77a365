namespace Orchestrator.ReadModels.Attention;

/// <summary>
/// A migration that is not over, or that failed and waits for an operator: what the attention queue is made from.
/// Migrations that ended well (completed, rolled back, cancelled, rejected) have no such document.
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

    public DateTimeOffset LastEventAt { get; set; }
    public string? LastEventType { get; set; }
}
