namespace Orchestrator.Workflows.Policy;

/// <summary>
/// How the convergence policy engine acts, for every migration (the per-migration limits are in its
/// <see cref="EffectivePolicy"/>). Defaults after the peers: libvirt/Nova's downtime steps, QEMU's auto-converge steps.
/// </summary>
public sealed record ConvergenceSettings
{
    /// <summary>The downtime limit starts at cap / RampSteps and rises by that much every <see cref="RampEveryRounds"/>.</summary>
    public int RampSteps { get; init; } = 4;

    public int RampEveryRounds { get; init; } = 3;

    /// <summary>Rounds in which the remaining bytes do not reach a new low before the migration counts as stalled.</summary>
    public int StallWindowRounds { get; init; } = 4;

    /// <summary>Shrinking by less than this fraction of the best remaining so far is no progress.</summary>
    public double ProgressFraction { get; init; } = 0.02;

    public int ThrottleStartPercent { get; init; } = 20;

    public int ThrottleStepPercent { get; init; } = 10;

    public int ThrottleMaxPercent { get; init; } = 99;

    /// <summary>The downtime limit a migration starts with, the first step of the ramp.</summary>
    public int RampStart(int capMs) => Math.Max(1, capMs / RampSteps);

    public int RampStep(int capMs) => Math.Max(1, capMs / RampSteps);
}
