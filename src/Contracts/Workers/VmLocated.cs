namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report, the answer to <see cref="Workers.LocateVm"/>: what <see cref="Host"/>'s hypervisor says of the VM now
/// (<see cref="VmPresences"/>), with the hypervisor's own words in <see cref="Detail"/>. Recorded as evidence.
/// <see cref="Epoch"/> is the epoch of the question answered: a late answer to an earlier recovery's question is not
/// evidence for a later one.
/// </summary>
public sealed record VmLocated(Guid MigrationId, string Host, string VmId, string Presence, string? Detail, DateTimeOffset Timestamp, int? Epoch = null) : IMigrationEvent;
