using Orchestrator.Contracts;

namespace Orchestrator.Api;

/// <summary>
/// The answer of <c>POST /api/drains/plan</c>: what a drain of <see cref="Host"/> would do, without starting anything.
/// Each VM's target (as the drain would pick it), its place in line, the bandwidth it would start with, when it would
/// start and end (seconds from the drain's start) and its predicted downtime and ending, over the host's uplink
/// (<see cref="LinkMiBps"/>, configuration <c>Links</c>) at most <see cref="MaxAtOnce"/> at once (today's admission
/// limits: <see cref="Scheduler"/> is <c>fixed-limits</c>, the link split evenly); the VMs no target can take; the
/// targets whose worker did not answer.
/// </summary>
public sealed record DrainPlanView(
    string Host,
    double LinkMiBps,
    int MaxAtOnce,
    string Scheduler,
    double TotalSeconds,
    IReadOnlyList<PlannedMigrationView> Migrations,
    IReadOnlyList<DrainProblem> Unmovable,
    IReadOnlyList<string> Unanswered);

/// <summary>One VM of a drain plan; <see cref="EarlierMigrations"/> 0: no history, forecast at the upper bound.</summary>
public sealed record PlannedMigrationView(
    int Order,
    string VmId,
    string TargetHost,
    double BandwidthMiBps,
    double StartSeconds,
    double EndSeconds,
    double DowntimeMs,
    string Outcome,
    int EarlierMigrations)
{
    public static PlannedMigrationView From(DrainMoveForecast forecast, string targetHost) => new(forecast.Order, forecast.VmId, targetHost,
        forecast.BandwidthMiBps, forecast.StartSeconds, forecast.EndSeconds, forecast.DowntimeMs, forecast.Outcome, forecast.EarlierMigrations);
}
