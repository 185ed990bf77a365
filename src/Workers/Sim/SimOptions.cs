namespace Orchestrator.Workers.Sim;

/// <summary>How the simulated hypervisor behaves.</summary>
public sealed class SimOptions
{
    /// <summary>
    /// Wall-clock seconds per simulated second. 0 (the default) runs in simulated time: a migration of a 4 GiB VM takes
    /// milliseconds. 1 runs in real time (demos, timeouts); 0.05 runs twenty times faster than real.
    /// </summary>
    public double RealTimeFactor { get; set; }

    /// <summary>VMs with given memory behaviour; any other VM's behaviour follows from its id (<see cref="SimVm.FromId"/>).</summary>
    public Dictionary<string, SimVm> Vms { get; } = new(StringComparer.Ordinal);

    public SimVm Vm(string vmId) => Vms.TryGetValue(vmId, out var vm) ? vm : SimVm.FromId(vmId);

    /// <summary>Memory each simulated host offers its VMs (pre-flight refuses a target that would overflow).</summary>
    public long HostMemoryBytes { get; set; } = 256L << 30;

    /// <summary>Where VMs run when the worker starts (VM id → host), so a host has VMs to drain before any migration named them.</summary>
    public Dictionary<string, string> Placements { get; } = new(StringComparer.Ordinal);

    /// <summary>Steps that fail on purpose, for tests and demos of the failure paths.</summary>
    public List<SimFault> Faults { get; } = [];
}
