namespace Orchestrator.Contracts;

/// <summary>The hypervisor kinds the orchestrator has workers for.</summary>
public static class HypervisorKinds
{
    /// <summary>The simulated hypervisor: a model, for tests, demos and capacity planning.</summary>
    public const string Sim = "sim";

    /// <summary>Real QEMU/KVM driven over QMP.</summary>
    public const string Qemu = "qemu";

    public static IReadOnlyList<string> All { get; } = [Sim, Qemu];

    public static bool IsKnown(string? hypervisor) => hypervisor is not null && All.Contains(hypervisor);
}
