namespace Orchestrator.Workflows.Policy;

/// <summary>The engine's decision, why, and the state to remember for the next round.</summary>
public sealed record ConvergenceDecision(ConvergenceAction Action, string Reason, ConvergenceState State);
