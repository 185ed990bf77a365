namespace Orchestrator.Contracts.Workers;

/// <summary>
/// Worker report of earlier releases, sent to the saga periodically while a long step ran: the worker is alive and the
/// step goes on. Still honoured; today's workers send one <see cref="HostHeartbeat"/> per host instead.
/// </summary>
public sealed record StepHeartbeat(Guid MigrationId, string Step, string Host, DateTimeOffset Timestamp) : IMigrationEvent;
