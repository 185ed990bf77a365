using JasperFx.Events;
using Orchestrator.Contracts;

namespace Orchestrator.ReadModels;

/// <summary>
/// The time an event says it happened (<see cref="IMigrationEvent.Timestamp"/>): projections take time from the events,
/// never from the clock, nor from the store, whose time is when the saga wrote the event, not when it happened.
/// </summary>
static class EventTimes
{
    /// <summary>
    /// The event's own time. Only migration events have one; a projection that takes time from anything else was given
    /// an event it does not include, and says so instead of passing off the store's time as the event's.
    /// </summary>
    public static DateTimeOffset Of(IEvent @event) => @event.Data is IMigrationEvent migration
        ? migration.Timestamp
        : throw new InvalidOperationException($"{@event.EventTypeName} is not a migration event: it has no time of its own.");
}
