namespace Orchestrator.Contracts.Workers;

/// <summary>A request to a host's worker: what runs on the host, and how much room it has. Answered with <see cref="HostDescription"/>.</summary>
public sealed record DescribeHost(string Host);

/// <summary>What a host holds: its memory for VMs, how much of it is free, and its VMs.</summary>
public sealed record HostDescription(string Host, long CapacityBytes, long FreeBytes, IReadOnlyList<HostedVm> Vms);

public sealed record HostedVm(string VmId, long MemoryBytes);
