namespace Orchestrator.Workers.Sim;

/// <summary>
/// An injected host death: <see cref="Host"/> dies during pass <see cref="AtRound"/> of a transfer from or to it (of
/// <see cref="VmId"/> only, when given). Everything on it is gone: its VMs, its prepared destinations; every later step
/// that needs it fails. <see cref="SimulatedFleet.KillHost"/> kills a host at once.
/// </summary>
public sealed record SimHostCrash(string Host, string? VmId = null, int AtRound = 1);
