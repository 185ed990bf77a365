namespace Orchestrator.Workflows.Policy;

/// <summary>What the policy engine remembers between the rounds of one migration (kept on the saga).</summary>
public sealed record ConvergenceState(
    int DowntimeLimitMs,
    int ThrottlePercent,
    long BestRemainingBytes,
    int RoundsWithoutProgress,
    int RoundsSinceRamp,
    bool PostCopyRequested)
{
    public static ConvergenceState Start(int downtimeLimitMs) => new(downtimeLimitMs, 0, long.MaxValue, 0, 0, false);
}
