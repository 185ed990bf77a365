namespace Orchestrator.Workers.Sim;

/// <summary>A whole pre-copy under limits that never change: its passes, its downtime and its totals.</summary>
public static class PreCopyModel
{
    public const int MaxRounds = 30;

    /// <summary>CPU and device state sent during stop-and-copy under the generic profile.</summary>
    public static long DeviceStateBytes => SimProfiles.Generic.DeviceStateBytes;

    /// <summary>Pre-copy passes, then stop-and-copy of the rest plus the CPU and device state at the cap.</summary>
    public static PreCopyResult Simulate(SimVm vm, SimProfile profile, long capWireBytesPerSecond, double maxDowntimeMs, ulong? seed = null,
        bool autoConverge = false)
    {
        var run = new PreCopyRun(vm, profile, new SimRandom(seed ?? vm.EffectiveSeed));
        var passes = new List<SimPass>();
        do
            passes.Add(run.Next(capWireBytesPerSecond, maxDowntimeMs, autoConverge: autoConverge));
        while (!passes[^1].IsLast);
        var last = passes[^1];
        var stopAndCopyBytes = last.BytesRemaining + profile.DeviceStateBytes;
        return new PreCopyResult(passes, last.ExpectedDowntimeMs, run.ElapsedSeconds + last.ExpectedDowntimeMs / 1000,
            run.BytesSent + stopAndCopyBytes, run.WireBytesSent + (long)(stopAndCopyBytes / Math.Max(1, profile.CompressionRatio)), run.Missing);
    }

    /// <summary>The passes of a pre-copy under the generic profile (every pass at the cap).</summary>
    public static IReadOnlyList<SimPass> Passes(SimVm vm, long bandwidthBytesPerSecond, double maxDowntimeMs) =>
        Simulate(vm, SimProfiles.Generic, bandwidthBytesPerSecond, maxDowntimeMs).Passes;
}
