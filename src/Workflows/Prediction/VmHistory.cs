using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// A VM's pre-copy history as the predictor reads it: the rounds of its earlier migrations (oldest first) and of the
/// one running now. Each migration's rounds are fitted on their own (<see cref="DirtyBehaviour.Fit"/>); the fits are
/// then averaged with exponentially decaying weights, the latest migration weighing 1, the one before it
/// <see cref="Decay"/>, and so on back: an exponentially weighted mean (of the logarithms: rates and sizes multiply)
/// that follows a VM whose behaviour changes, and its spread, which says how much the VM varies.
/// </summary>
public static class VmHistory
{
    public const double Decay = 0.5;

    /// <summary>Each round as a pass: it ran BytesTransferred / Bandwidth seconds and left BytesRemaining dirty.</summary>
    public static IReadOnlyList<PassObservation> Observations(IReadOnlyList<PreCopyRoundCompleted> migration) =>
        [.. migration.Where(r => r.BandwidthBytesPerSecond > 0 && r.BytesTransferred > 0)
            .Select(r => new PassObservation(r.BytesTransferred / (double)r.BandwidthBytesPerSecond, r.BytesRemaining, 1, r.ThrottlePercent))];

    /// <summary>The VM's behaviour from its migrations' rounds; null when none has a round.</summary>
    public static DirtyBehaviour? Learn(IReadOnlyList<IReadOnlyList<PreCopyRoundCompleted>> migrations, long memoryBytes)
    {
        var fits = new List<(DirtyBehaviour Fit, double Weight)>();
        for (var i = 0; i < migrations.Count; i++)
            if (DirtyBehaviour.Fit(Observations(migrations[i]), memoryBytes) is { } fit)
                fits.Add((fit, Math.Pow(Decay, migrations.Count - 1 - i)));
        return DirtyBehaviour.Combine(fits);
    }
}
