namespace Orchestrator.Workers.Sim;

/// <summary>A simulated post-copy: how long its page stream took, the memory bytes it moved, and the page faults the guest took.</summary>
public sealed record PostCopyResult(double Seconds, long Bytes, long PageFaults);
