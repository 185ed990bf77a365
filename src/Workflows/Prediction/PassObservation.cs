namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// One pre-copy pass as history records it: how long it ran and how much memory the guest dirtied meanwhile (what the
/// next pass had to send) under the throttle in force, with the weight the fit gives it (recent passes count more).
/// </summary>
public sealed record PassObservation(double Seconds, long DirtyBytes, double Weight = 1, int ThrottlePercent = 0)
{
    /// <summary>The share of the guest's speed the pass left it (a throttled guest dirties less).</summary>
    public double Slowdown => (100 - Math.Clamp(ThrottlePercent, 0, 99)) / 100.0;
}
