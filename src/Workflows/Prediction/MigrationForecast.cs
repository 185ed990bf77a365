namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// What a migration is predicted to cost before it starts: its total time, pre-copy rounds, downtime and bytes sent,
/// and how it ends under its policy (<see cref="ForecastOutcomes"/>), with the reason in words an operator can check;
/// <see cref="DowntimeLimitMs"/> is the downtime limit in force when it ends (what the ramp had reached).
/// </summary>
public sealed record MigrationForecast(
    string Outcome,
    int Rounds,
    double TotalSeconds,
    double DowntimeMs,
    long BytesSent,
    string Reason,
    int DowntimeLimitMs = 0)
{
    /// <summary>Pre-copy alone reaches a downtime within the policy.</summary>
    public bool PreCopyConverges => Outcome == ForecastOutcomes.Converges;
}
