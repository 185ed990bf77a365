using JasperFx.Events;

namespace Orchestrator.ReadModels.Migrations;

static class MigrationSummaryUpdates
{
    public static void Touch(this MigrationSummary summary, IEvent @event, DateTimeOffset timestamp)
    {
        summary.UpdatedAt = timestamp;
        // Appended to an existing stream, an event reaches the inline projection before the database numbered it
        // (Marten's quick append): every event of the stream passes through here, so counting gives the same number.
        summary.LastEventVersion = @event.Version > 0 ? @event.Version : summary.LastEventVersion + 1;
    }

    /// <summary>A terminal event: the migration ended then (its state comes with the state change that follows it).</summary>
    public static void End(this MigrationSummary summary, IEvent @event, DateTimeOffset timestamp)
    {
        summary.EndedAt = timestamp;
        summary.Touch(@event, timestamp);
    }
}
