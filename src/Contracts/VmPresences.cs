namespace Orchestrator.Contracts;

/// <summary>What a host's worker says of a VM when asked (<see cref="Workers.LocateVm"/>).</summary>
public static class VmPresences
{
    /// <summary>The VM runs on the host.</summary>
    public const string Running = "running";

    /// <summary>The VM exists on the host but does not run (stopped for a switchover, or post-copy broken off).</summary>
    public const string Paused = "paused";

    /// <summary>A destination waits on the host for the VM's memory; the VM does not run there.</summary>
    public const string Incoming = "incoming";

    /// <summary>What is left on the host after the VM moved away; it does not run there.</summary>
    public const string Stopped = "stopped";

    /// <summary>The host has no trace of the VM.</summary>
    public const string Absent = "absent";

    /// <summary>The host's worker did not answer in time: nothing is known.</summary>
    public const string Unknown = "unknown";
}
