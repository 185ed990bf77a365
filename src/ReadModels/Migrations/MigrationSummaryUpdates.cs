using JasperFx.Events;

namespace Orchestrator.ReadModels.Migrations;

static class MigrationSummaryUpdates
{
    public static void Touch(this MigrationSummary summary, IEvent @event, DateTimeOffset timestamp)
    {
        summary.UpdatedAt = timestamp;
        summary.Version = @event.Version;
    }

    public static void Move(this MigrationSummary summary, string state, IEvent @event, DateTimeOffset timestamp)
    {
        summary.State = state;
        summary.Touch(@event, timestamp);
    }

    public static void End(this MigrationSummary summary, string state, IEvent @event, DateTimeOffset timestamp)
    {
        summary.EndedAt = timestamp;
        summary.Move(state, @event, timestamp);
    }
}
