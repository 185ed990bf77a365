namespace Orchestrator.Workflows.Migration;

/// <summary>
/// Internal: check an in-flight migration against the hosts' truth without disturbing it. Sent by every orchestrator
/// instance as it starts (<see cref="InFlightReconciler"/>). A migration the hosts agree with goes on; one they
/// contradict (a report lost in a crash) is recovered.
/// </summary>
public sealed record ReconcileMigration(Guid MigrationId, string Reason);
