using Marten;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Drain;

/// <summary>
/// A drain's forecast, the same for <c>drain --plan</c> and for the drain itself (recorded with its plan, so that its
/// progress shows predicted against actual): each VM forecast from its history (<see cref="VmBehaviourHistory"/>) over
/// the drained host's uplink (<see cref="HostLinkOptions"/>), in the plan's order, as many at once as the admission
/// limits let leave one host, the link split evenly among them (<see cref="BatchForecast"/>).
/// </summary>
public static class DrainForecaster
{
    public const string FixedLimits = "fixed-limits";

    const double MiB = 1024 * 1024;

    public static async Task<DrainForecast> Forecast(IQuerySession session, string host, IReadOnlyList<DrainMove> moves, HostLinkOptions links,
        AdmissionOptions admission, CancellationToken cancellationToken)
    {
        var histories = moves.Count == 0
            ? new Dictionary<string, VmBehaviourHistory>(StringComparer.Ordinal)
            : (await session.LoadManyAsync<VmBehaviourHistory>(cancellationToken, moves.Select(m => m.VmId).ToArray()))
                .ToDictionary(h => h.Id, StringComparer.Ordinal);
        var candidates = moves.Select(m => histories.TryGetValue(m.VmId, out var history)
            ? new BatchForecast.Candidate(m.VmId, m.TargetHost, m.MemoryBytes, history.Behaviour(), history.Samples.Count, history.FirstPassBytes())
            : new BatchForecast.Candidate(m.VmId, m.TargetHost, m.MemoryBytes, null, 0)).ToList();
        var link = links.BytesPerSecondOf(host);
        var atOnce = Math.Max(1, Math.Min(admission.MaxOutboundPerHost, admission.MaxPerCluster));
        var (planned, total) = BatchForecast.Plan(candidates, EffectivePolicy.Defaults, link, atOnce);
        return new DrainForecast(Math.Round(link / MiB, 1), atOnce, FixedLimits, Math.Round(total, 2),
        [
            .. planned.Select(p => new DrainMoveForecast(p.VmId, p.Order, Math.Round(p.BandwidthBytesPerSecond / MiB, 1), Math.Round(p.StartSeconds, 2),
                Math.Round(p.EndSeconds, 2), Math.Round(p.DowntimeMs, 1), p.Outcome, p.EarlierMigrations)),
        ]);
    }
}
