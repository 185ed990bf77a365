namespace Orchestrator.Workers.Sim;

/// <summary>
/// An injected unresponsive worker: it consumes the command of <see cref="Step"/> (any step when null) for
/// <see cref="VmId"/> or on <see cref="Host"/> and never replies; a transfer falls silent after <see cref="AfterRound"/>
/// passes (0: before the first). A silent transfer still heart-beats, as a worker process whose hypervisor hangs would;
/// a worker process that is gone is a killed process, not this fault.
/// </summary>
public sealed record SimSilence(string? Step = null, string? VmId = null, string? Host = null, int AfterRound = 0);
