namespace Orchestrator.Workers.Sim;

/// <summary>Why pre-copy stopped after a pass (<see cref="None"/>: it goes on).</summary>
public enum PreCopyStop
{
    None,

    /// <summary>Fewer pages than the profile's threshold (50) were dirtied during the pass.</summary>
    BelowThreshold,

    /// <summary>The rest can be sent within the downtime limit (and the profile's switchover goal).</summary>
    DowntimeFits,

    /// <summary>The guest dirties memory faster than the capped link can send it: more passes do not help.</summary>
    DirtyRateExceedsTransferRate,

    /// <summary>The profile's maximum number of passes (30).</summary>
    RoundCap,
}
