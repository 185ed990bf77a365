namespace Orchestrator.Workers.Drivers;

/// <summary>A hypervisor step that could not be done, with where the VM runs as far as the driver knows.</summary>
public sealed class HypervisorStepException(string message, string? vmRunningOn) : Exception(message)
{
    public string? VmRunningOn { get; } = vmRunningOn;
}
