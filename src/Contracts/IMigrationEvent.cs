namespace Orchestrator.Contracts;

/// <summary>
/// What every event of a migration carries: the migration it belongs to, and when it happened by the clock of whoever
/// saw it happen (the saga, or the worker that reports it). Read models take an event's time from here, never from the
/// store or their own clock. Members only, no behaviour: records implement it with the members they always had.
/// </summary>
public interface IMigrationEvent
{
    Guid MigrationId { get; }

    DateTimeOffset Timestamp { get; }
}
