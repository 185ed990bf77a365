namespace Orchestrator.Workflows.Migration;

/// <summary>
/// How long the workflow waits for a worker in each state (configuration section <c>Timeouts</c>). Pre-copy and
/// post-copy wait the migration's own ProgressTimeoutSeconds for a round or a heartbeat instead.
/// </summary>
public sealed class TimeoutOptions
{
    public const string Section = "Timeouts";

    public TimeSpan Prepare { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan Switchover { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan Cleanup { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan Rollback { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a recovery waits for the hosts' answers to the truth query.</summary>
    public TimeSpan Locate { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idempotent command (cleanup, abort, destroy) is sent before the workflow gives up on it.</summary>
    public int MaxAttempts { get; set; } = 3;
}
