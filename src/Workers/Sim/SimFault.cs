namespace Orchestrator.Workers.Sim;

/// <summary>An injected failure: <see cref="Step"/> (a <see cref="HypervisorSteps"/> value) fails for <see cref="VmId"/>.</summary>
public sealed record SimFault(string Step, string VmId);
