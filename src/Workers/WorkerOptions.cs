namespace Orchestrator.Workers;

/// <summary>How a worker runs its steps (configuration section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>
    /// How often a long step (a transfer) says it is still alive, so the workflow tells a slow step from a dead worker.
    /// Keep it well below the migrations' progress timeout.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the worker keeps the highest fencing epoch it has seen per migration (a small file each), so that a
    /// restarted worker still refuses superseded commands. Null or empty keeps them in memory only.
    /// </summary>
    public string? StateDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "orchestrator-worker", "epochs");
}
