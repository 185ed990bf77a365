namespace Orchestrator.Workers.Sim;

/// <summary>
/// A small deterministic pseudo-random generator (SplitMix64): the same seed gives the same sequence on every machine
/// and every run, unlike <see cref="Random"/> whose algorithm may change between runtimes.
/// </summary>
public sealed class SimRandom(ulong seed)
{
    ulong _state = seed;

    /// <summary>A seed for one migration of one VM: the VM's own seed mixed with the migration's id.</summary>
    public static ulong Seed(ulong vmSeed, Guid migrationId)
    {
        var bytes = migrationId.ToByteArray();
        return Mix(vmSeed ^ BitConverter.ToUInt64(bytes, 0) ^ Mix(BitConverter.ToUInt64(bytes, 8)));
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>
    /// How many of <paramref name="trials"/> pages are hit when each is hit with <paramref name="probability"/>: a binomial
    /// draw, exact enough and cheap for any size (Poisson at either tail, normal in between).
    /// </summary>
    public long Binomial(long trials, double probability)
    {
        if (trials <= 0 || probability <= 0)
            return 0;
        if (probability >= 1)
            return trials;
        var mean = trials * probability;
        var missed = trials * (1 - probability);
        if (mean < 30)
            return Math.Min(trials, Poisson(mean));
        if (missed < 30)
            return Math.Max(0, trials - Poisson(missed));
        var draw = Math.Round(mean + Math.Sqrt(mean * (1 - probability)) * NextGaussian());
        return (long)Math.Clamp(draw, 0, trials);
    }

    long Poisson(double mean)
    {
        // Knuth's method: fine for the small means it is used for.
        var limit = Math.Exp(-mean);
        long count = 0;
        var product = NextDouble();
        while (product > limit)
        {
            count++;
            product *= NextDouble();
        }
        return count;
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
