namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// How a VM dirties its memory, in three numbers an operator can read: a working set of
/// <see cref="WorkingSetBytes"/> rewritten at <see cref="HotRateBytesPerSecond"/>, and a cold tail written at
/// <see cref="ColdRateBytesPerSecond"/>. A pass of t seconds finds W·(1 − e^(−r·t/W)) + c·t bytes dirty: short passes
/// see the hot rate, long ones the working set (after Clark et al.'s writable working set).
/// <see cref="RelativeError"/> is the weighted spread of the passes around the fit (0.1: ±10 %).
/// </summary>
public sealed record DirtyBehaviour(long WorkingSetBytes, double HotRateBytesPerSecond, double ColdRateBytesPerSecond, double RelativeError,
    int Observations)
{
    /// <summary>Bytes dirtied during a pass of <paramref name="seconds"/> with the vCPUs throttled by <paramref name="throttlePercent"/>.</summary>
    public double Dirtied(double seconds, int throttlePercent = 0)
    {
        var slowdown = (100 - Math.Clamp(throttlePercent, 0, 99)) / 100.0;
        return Dirtied(WorkingSetBytes, HotRateBytesPerSecond * slowdown, ColdRateBytesPerSecond * slowdown, seconds);
    }

    static double Dirtied(double workingSet, double hotRate, double coldRate, double seconds) =>
        (workingSet <= 0 ? 0 : -workingSet * double.ExpM1(-hotRate * seconds / workingSet)) + coldRate * seconds;

    /// <summary>
    /// The behaviour that best fits the passes (weighted least squares of the relative error): the working set and the
    /// hot rate searched on a logarithmic grid and refined around the best, the cold rate solved for each pair. Null
    /// without a pass to learn from.
    /// </summary>
    public static DirtyBehaviour? Fit(IReadOnlyCollection<PassObservation> passes, long memoryBytes)
    {
        var usable = passes.Where(p => p.Seconds > 0 && p.Weight > 0).ToArray();
        if (usable.Length == 0 || memoryBytes <= 0)
            return null;
        if (usable.All(p => p.DirtyBytes <= 0))
            return new DirtyBehaviour(0, 0, 0, 0, usable.Length);

        var largest = Math.Max(1, usable.Max(p => p.DirtyBytes));
        var fastest = Math.Max(1, usable.Max(p => p.DirtyBytes / p.Seconds / p.Slowdown));
        // The working set is at least a tenth of the most a pass found dirty and at most the memory; the hot rate at
        // least a tenth of the fastest a pass saw and at most a hundred times it.
        var best = Search(usable, Math.Max(1, largest / 10.0), memoryBytes, fastest / 10, fastest * 100, 48);
        for (var refine = 0; refine < 3; refine++)
            best = Search(usable, best.W / 1.5, Math.Min(memoryBytes, best.W * 1.5), best.R / 1.5, best.R * 1.5, 12);

        var weight = usable.Sum(p => p.Weight);
        return new DirtyBehaviour((long)best.W, best.R, best.C, Math.Sqrt(best.Error / weight), usable.Length);
    }

    /// <summary>
    /// The weighted mean of several fits (of the logarithms of the working set and the rates, which multiply); the
    /// relative error is the fits' own and their spread around the mean together. Null without a fit.
    /// </summary>
    public static DirtyBehaviour? Combine(IReadOnlyList<(DirtyBehaviour Fit, double Weight)> fits)
    {
        var total = fits.Sum(f => f.Weight);
        if (fits.Count == 0 || total <= 0)
            return null;
        double Mean(Func<DirtyBehaviour, double> value) => fits.Sum(f => f.Weight * Math.Log(1 + value(f.Fit))) / total;
        double Spread(Func<DirtyBehaviour, double> value, double mean) =>
            fits.Sum(f => f.Weight * Math.Pow(Math.Log(1 + value(f.Fit)) - mean, 2)) / total;
        var w = Mean(f => f.WorkingSetBytes);
        var r = Mean(f => f.HotRateBytesPerSecond);
        var c = Mean(f => f.ColdRateBytesPerSecond);
        var own = fits.Sum(f => f.Weight * f.Fit.RelativeError * f.Fit.RelativeError) / total;
        var error = Math.Sqrt(own + Spread(f => f.WorkingSetBytes, w) + Spread(f => f.HotRateBytesPerSecond, r));
        return new DirtyBehaviour((long)double.ExpM1(w), double.ExpM1(r), double.ExpM1(c), error, fits.Sum(f => f.Fit.Observations));
    }

    static (double W, double R, double C, double Error) Search(PassObservation[] passes, double minW, double maxW, double minR, double maxR, int steps)
    {
        var best = (W: maxW, R: maxR, C: 0.0, Error: double.MaxValue);
        for (var i = 0; i <= steps; i++)
        {
            var w = minW * Math.Pow(maxW / minW, i / (double)steps);
            for (var j = 0; j <= steps; j++)
            {
                var r = minR * Math.Pow(maxR / minR, j / (double)steps);
                var (c, error) = ColdRateAndError(passes, w, r);
                if (error < best.Error)
                    best = (w, r, c, error);
            }
        }
        return best;
    }

    /// <summary>For a working set and hot rate, the cold rate (≥ 0) with the least weighted squared relative error, and that error.</summary>
    static (double C, double Error) ColdRateAndError(PassObservation[] passes, double w, double r)
    {
        double numerator = 0, denominator = 0;
        foreach (var p in passes)
        {
            var d = Math.Max(1, p.DirtyBytes);
            var hot = Dirtied(w, r * p.Slowdown, 0, p.Seconds);
            var cold = p.Slowdown * p.Seconds;
            numerator += p.Weight * (d - hot) * cold / (d * d);
            denominator += p.Weight * cold * cold / (d * d);
        }
        var c = denominator > 0 ? Math.Max(0, numerator / denominator) : 0;
        double error = 0;
        foreach (var p in passes)
        {
            var d = Math.Max(1, p.DirtyBytes);
            var relative = (Dirtied(w, r * p.Slowdown, c * p.Slowdown, p.Seconds) - d) / d;
            error += p.Weight * relative * relative;
        }
        return (c, error);
    }
}
