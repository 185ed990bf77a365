namespace Orchestrator.Workflows.Liveness;

/// <summary>
/// When a transfer's worker last said it was alive (<see cref="Contracts.Workers.HostHeartbeat"/>). Kept apart from the
/// saga: a heartbeat writes this small document and nothing else, and the timer dispatcher reads it before it lets a
/// progress timeout fire.
/// </summary>
public sealed class TransferLiveness
{
    /// <summary>The migration's id.</summary>
    public Guid Id { get; set; }

    public string Host { get; set; } = string.Empty;

    public DateTimeOffset SeenAt { get; set; }
}
