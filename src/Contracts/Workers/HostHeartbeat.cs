namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the worker is alive and these transfers (from <see cref="Host"/>) go on. Today's workers send one
/// <see cref="WorkerHeartbeat"/> holding one of these per host; a <c>HostHeartbeat</c> on its own, what earlier workers sent
/// per host, is still honoured. It goes to <see cref="QueueNames.Liveness"/>, not to the saga: liveness is kept apart
/// from the migrations' transactions.
/// </summary>
public sealed record HostHeartbeat(string Host, IReadOnlyList<Guid> MigrationIds, DateTimeOffset Timestamp);
