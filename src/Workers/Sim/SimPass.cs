namespace Orchestrator.Workers.Sim;

/// <summary>One simulated pre-copy pass; <see cref="IsLast"/> means stop-and-copy follows.</summary>
public sealed record SimPass(int Round, long BytesSent, long BytesRemaining, double Seconds, double ExpectedDowntimeMs, bool IsLast);
