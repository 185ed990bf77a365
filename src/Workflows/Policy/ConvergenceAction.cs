namespace Orchestrator.Workflows.Policy;

/// <summary>What the policy engine decided after a round.</summary>
public enum ConvergenceAction
{
    /// <summary>Converging, or given time to: nothing to change.</summary>
    Continue,

    /// <summary>Raise the downtime limit (the ramp, or the cap when the migration stalls).</summary>
    RaiseDowntime,

    /// <summary>Throttle the guest's vCPUs so it dirties memory more slowly (auto-converge).</summary>
    Throttle,

    /// <summary>Stop iterating and switch to post-copy.</summary>
    SwitchToPostCopy,

    /// <summary>Nothing left to try: abort and roll back; the VM stays on its source.</summary>
    Abort,
}
