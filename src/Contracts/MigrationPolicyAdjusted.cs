namespace Orchestrator.Contracts;

/// <summary>
/// The convergence policy acted on a running migration: <see cref="Action"/> is <c>RaiseDowntime</c>, <c>Throttle</c>,
/// <c>SwitchToPostCopy</c> or <c>Abort</c>; the limits in force after the decision come with it. <c>LinkShare</c>: with
/// the links scheduled, admission gave the transfer its max-bandwidth from the link budget, said in <see cref="Reason"/>
/// (before the transfer: the limits are 0).
/// </summary>
public sealed record MigrationPolicyAdjusted(
    Guid MigrationId,
    string Action,
    string Reason,
    int DowntimeLimitMs,
    int ThrottlePercent,
    DateTimeOffset Timestamp) : IMigrationEvent;
