namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report: the destination on <see cref="Host"/> waits for the incoming migration. <see cref="IncomingUri"/>: where
/// it listens for the migration stream (QEMU: <c>tcp:ADDRESS:PORT</c>), an address the source host can reach; the
/// workflow passes it to the source in <see cref="BeginTransfer"/>. Null for hypervisors that need none (sim).
/// </summary>
public sealed record TargetPrepared(Guid MigrationId, string Host, int Epoch, DateTimeOffset Timestamp, string? IncomingUri = null) : IMigrationEvent;
