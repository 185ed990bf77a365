using JasperFx.Events;
using Orchestrator.Contracts;

namespace Orchestrator.ReadModels;

/// <summary>The time an event says it happened: projections take time from the events, never from the clock.</summary>
static class EventTimes
{
    public static DateTimeOffset Of(IEvent @event) => @event.Data switch
    {
        MigrationRequested e => e.Timestamp,
        MigrationQueued e => e.Timestamp,
        MigrationAdmitted e => e.Timestamp,
        MigrationRejected e => e.Timestamp,
        PreflightPassed e => e.Timestamp,
        PreflightFailed e => e.Timestamp,
        TargetPrepared e => e.Timestamp,
        PreCopyRoundCompleted e => e.Timestamp,
        MigrationPolicyAdjusted e => e.Timestamp,
        StopAndCopyCompleted e => e.Timestamp,
        SwitchoverCompleted e => e.Timestamp,
        PostCopyStarted e => e.Timestamp,
        PostCopyRecovered e => e.Timestamp,
        PostCopyCompleted e => e.Timestamp,
        SourceCleanedUp e => e.Timestamp,
        MigrationCompleted e => e.Timestamp,
        MigrationStepFailed e => e.Timestamp,
        MigrationRollingBack e => e.Timestamp,
        MigrationAborted e => e.Timestamp,
        TargetDestroyed e => e.Timestamp,
        MigrationRolledBack e => e.Timestamp,
        MigrationCancelled e => e.Timestamp,
        MigrationFailed e => e.Timestamp,
        CommandRefused e => e.Timestamp,
        _ => @event.Timestamp,
    };
}
