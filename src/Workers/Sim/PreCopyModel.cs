namespace Orchestrator.Workers.Sim;

/// <summary>
/// Iterative pre-copy as Clark et al. (NSDI 2005) describe it: the first pass sends all memory, each later pass sends
/// what the guest dirtied during the previous one (bounded by its writable working set), until the rest can be sent
/// within the downtime limit or the pass cap is reached; then stop-and-copy sends the rest.
/// </summary>
public static class PreCopyModel
{
    public const int MaxRounds = 30;

    /// <summary>CPU and device state sent during stop-and-copy, on top of the remaining pages.</summary>
    public const long DeviceStateBytes = 2 * 1024 * 1024;

    /// <summary>One pass: sending <paramref name="toSend"/> takes this long, and the guest dirties this much meanwhile.</summary>
    public static (double Seconds, long Dirtied) Pass(SimVm vm, long toSend, long bandwidthBytesPerSecond, int throttlePercent)
    {
        var seconds = (double)toSend / bandwidthBytesPerSecond;
        var dirtyRate = vm.DirtyRateBytesPerSecond * (100 - Math.Clamp(throttlePercent, 0, 99)) / 100.0;
        return (seconds, Math.Min(vm.WorkingSetBytes, (long)(dirtyRate * seconds)));
    }

    /// <summary>The passes of a pre-copy whose limits never change.</summary>
    public static IEnumerable<SimPass> Passes(SimVm vm, long bandwidthBytesPerSecond, double maxDowntimeMs)
    {
        var toSend = vm.MemoryBytes;
        for (var round = 1; round <= MaxRounds; round++)
        {
            var (seconds, dirtied) = Pass(vm, toSend, bandwidthBytesPerSecond, throttlePercent: 0);
            var expectedDowntimeMs = ExpectedDowntimeMs(dirtied, bandwidthBytesPerSecond);
            var last = expectedDowntimeMs <= maxDowntimeMs || round == MaxRounds || (round > 1 && dirtied >= toSend);
            yield return new SimPass(round, toSend, dirtied, seconds, expectedDowntimeMs, last);
            if (last)
                yield break;
            toSend = dirtied;
        }
    }

    public static double ExpectedDowntimeMs(long remainingBytes, long bandwidthBytesPerSecond) =>
        (remainingBytes + DeviceStateBytes) * 1000.0 / bandwidthBytesPerSecond;
}
