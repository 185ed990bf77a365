namespace Orchestrator.Workers.Sim;

/// <summary>How the simulated hypervisor behaves (configuration section <c>Sim</c>).</summary>
public sealed class SimOptions
{
    public const string Section = "Sim";

    /// <summary>
    /// Wall-clock seconds per simulated second. 0 (the default) runs in simulated time: a migration of a 4 GiB VM takes
    /// milliseconds. 1 runs in real time (demos, timeouts); 0.05 runs twenty times faster than real.
    /// </summary>
    public double RealTimeFactor { get; set; }

    /// <summary>The profile of this worker's hosts (<see cref="SimProfiles.Names"/>): <c>generic</c>, <c>xen</c>, <c>esxi</c>, <c>hyperv</c>.</summary>
    public string Profile { get; set; } = SimProfiles.GenericName;

    /// <summary>Hosts whose hypervisor differs from <see cref="Profile"/>: host name to profile name, so one fleet mixes them.</summary>
    public Dictionary<string, string> HostProfiles { get; } = new(StringComparer.Ordinal);

    /// <summary>Profiles defined or redefined here (a Hyper-V with another compression ratio, say), by name.</summary>
    public Dictionary<string, SimProfile> Profiles { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>VMs with given memory behaviour; any other VM's behaviour follows from its id (<see cref="SimVm.FromId"/>).</summary>
    public Dictionary<string, SimVm> Vms { get; } = new(StringComparer.Ordinal);

    public SimVm Vm(string vmId) => Vms.TryGetValue(vmId, out var vm) ? vm : SimVm.FromId(vmId);

    /// <summary>Memory each simulated host offers its VMs (pre-flight refuses a target that would overflow).</summary>
    public long HostMemoryBytes { get; set; } = 256L << 30;

    /// <summary>Where VMs run when the worker starts (VM id → host), so a host has VMs to drain before any migration named them.</summary>
    public Dictionary<string, string> Placements { get; } = new(StringComparer.Ordinal);

    /// <summary>Steps that fail on purpose, for tests and demos of the failure paths.</summary>
    public List<SimFault> Faults { get; } = [];

    /// <summary>Hosts that die during a transfer.</summary>
    public List<SimHostCrash> HostCrashes { get; } = [];

    /// <summary>Links that drop during a transfer.</summary>
    public List<SimLinkDrop> LinkDrops { get; } = [];

    /// <summary>Commands the worker takes and never answers.</summary>
    public List<SimSilence> Silences { get; } = [];

    /// <summary>The profile a migration of <paramref name="vm"/> from <paramref name="sourceHost"/> follows: the VM's, else its host's, else the worker's.</summary>
    public SimProfile ProfileFor(SimVm vm, string sourceHost) =>
        Named(vm.Profile ?? (HostProfiles.TryGetValue(sourceHost, out var host) ? host : Profile));

    /// <summary>A profile by name: one defined in <see cref="Profiles"/>, else a built-in one; a clear error for any other.</summary>
    public SimProfile Named(string name) =>
        Profiles.TryGetValue(name, out var defined) ? defined with { Name = name } : SimProfiles.Get(name);
}
