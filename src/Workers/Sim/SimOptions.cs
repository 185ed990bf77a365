namespace Orchestrator.Workers.Sim;

/// <summary>How the simulated hypervisor behaves.</summary>
public sealed class SimOptions
{
    /// <summary>
    /// Wall-clock seconds per simulated second. 0 (the default) runs in simulated time: a migration of a 4 GiB VM takes
    /// milliseconds. 1 runs in real time (demos, timeouts); 0.05 runs twenty times faster than real.
    /// </summary>
    public double RealTimeFactor { get; set; }

    /// <summary>Steps that fail on purpose, for tests and demos of the failure paths.</summary>
    public List<SimFault> Faults { get; } = [];
}
