namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report, one per worker process every heartbeat interval: the worker is alive, and so are the transfers it runs
/// from each of its hosts (<see cref="Hosts"/>, one <see cref="HostHeartbeat"/> each). It goes to
/// <see cref="QueueNames.Liveness"/>: however many hosts a worker serves, the broker and the orchestrator see one message
/// from it per interval, and the orchestrator writes its transfers' liveness in one transaction.
/// </summary>
public sealed record WorkerHeartbeat(IReadOnlyList<HostHeartbeat> Hosts, DateTimeOffset Timestamp);
