namespace Orchestrator.Contracts;

/// <summary>
/// The convergence policy acted on a running migration: <see cref="Action"/> is <c>RaiseDowntime</c>, <c>Throttle</c>,
/// <c>SwitchToPostCopy</c> or <c>Abort</c>; the limits in force after the decision come with it.
/// </summary>
public sealed record MigrationPolicyAdjusted(
    Guid MigrationId,
    string Action,
    string Reason,
    int DowntimeLimitMs,
    int ThrottlePercent,
    DateTimeOffset Timestamp) : IMigrationEvent;
