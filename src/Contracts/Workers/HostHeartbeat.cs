namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report, one per host every heartbeat interval: the worker is alive and these transfers (from
/// <see cref="Host"/>) go on. It goes to <see cref="QueueNames.Liveness"/>, not to the saga: liveness is kept apart from
/// the migrations' transactions, so ten thousand transfers cost one small write per host per interval.
/// </summary>
public sealed record HostHeartbeat(string Host, IReadOnlyList<Guid> MigrationIds, DateTimeOffset Timestamp);
