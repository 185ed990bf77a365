using System.Diagnostics.Metrics;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Per-migration metrics, modelled on KubeVirt's (<c>kubevirt_vmi_migration_data_processed_bytes</c>, …), labelled by
/// hypervisor and strategy but never by migration id (one series per id would grow without bound). Recorded from the
/// events of a transition once its transaction has committed, so a transition retried after a conflict or an outage
/// counts once. Meter <see cref="TransitionMetrics.MeterName"/>; on Prometheus the names become
/// <c>orchestrator_migration_phase_transitions_total</c>, <c>orchestrator_migration_phase_duration_seconds</c>,
/// <c>orchestrator_migration_data_processed_bytes_total</c>, <c>orchestrator_migration_expected_downtime_seconds</c>,
/// <c>orchestrator_migration_downtime_seconds</c> and <c>orchestrator_migration_outcomes_total</c>.
/// </summary>
public static class MigrationMetrics
{
    static readonly Meter Meter = new(TransitionMetrics.MeterName);

    /// <summary>The states a migration ends in (<see cref="MigrationStateMachine.Terminal"/>), by name.</summary>
    static readonly HashSet<string> Outcome =
    [
        nameof(MigrationStateMachine.Completed), nameof(MigrationStateMachine.RolledBack), nameof(MigrationStateMachine.Cancelled),
        nameof(MigrationStateMachine.Rejected), nameof(MigrationStateMachine.Failed),
    ];

    static readonly Counter<long> Transitions = Meter.CreateCounter<long>("orchestrator.migration.phase.transitions", "{transition}",
        "Phase transitions of migrations, by the phase left (from) and entered (to)");

    static readonly Histogram<double> PhaseDuration = Meter.CreateHistogram<double>("orchestrator.migration.phase.duration", "s",
        "Time a migration spent in a phase, recorded when it leaves it");

    static readonly Counter<long> DataProcessed = Meter.CreateCounter<long>("orchestrator.migration.data.processed", "By",
        "Memory sent to target hosts: pre-copy rounds and stop-and-copy");

    static readonly Histogram<double> ExpectedDowntime = Meter.CreateHistogram<double>("orchestrator.migration.expected_downtime", "s",
        "The downtime a stop-and-copy would have cost after each pre-copy round");

    static readonly Histogram<double> Downtime = Meter.CreateHistogram<double>("orchestrator.migration.downtime", "s",
        "The downtime the stop-and-copy of a migration cost");

    static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("orchestrator.migration.outcomes", "{migration}",
        "Migrations that ended, by outcome (the terminal state)");

    /// <summary>The events of one committed transition of <paramref name="saga"/>, and the phases it left.</summary>
    public static void Committed(MigrationState saga, IReadOnlyList<object> events, IReadOnlyList<(string Phase, TimeSpan Spent)> endedPhases)
    {
        var hypervisor = new KeyValuePair<string, object?>("hypervisor", Label(saga.Hypervisor));
        var strategy = new KeyValuePair<string, object?>("strategy", Label(saga.Strategy));
        foreach (var (phase, spent) in endedPhases)
            PhaseDuration.Record(spent.TotalSeconds, hypervisor, strategy, new("phase", phase));
        foreach (var e in events)
        {
            switch (e)
            {
                case MigrationStateChanged changed:
                    Transitions.Add(1, hypervisor, strategy, new("from", changed.FromState ?? "none"), new("to", changed.ToState));
                    if (Outcome.Contains(changed.ToState))
                        Outcomes.Add(1, hypervisor, strategy, new("outcome", changed.ToState));
                    break;
                case PreCopyRoundCompleted round:
                    DataProcessed.Add(round.BytesTransferred, hypervisor, strategy);
                    ExpectedDowntime.Record(round.ExpectedDowntimeMs / 1000, hypervisor, strategy);
                    break;
                case StopAndCopyCompleted stop:
                    DataProcessed.Add(stop.BytesTransferred, hypervisor, strategy);
                    Downtime.Record(stop.DowntimeMs / 1000, hypervisor, strategy);
                    break;
            }
        }
    }

    static string Label(string value) => string.IsNullOrEmpty(value) ? "unknown" : value;
}
