namespace Orchestrator.Workers.Sim;

/// <summary>
/// Post-copy with pre-paging after Hines et al.: the CPU state goes first and the VM resumes on the target; the source
/// then streams every missing page once (pre-paging) while the guest's first touch of a page not yet there faults and
/// pulls it on demand, ahead of the stream. A page's arrival in the stream is uniform over the stream's length T, so a
/// page touched at rate a faults with probability 1 − (1 − e^(−aT))/(aT); faults follow from the access pattern.
/// </summary>
public static class PostCopyModel
{
    /// <summary>Moves the missing pages of <paramref name="vm"/> at <paramref name="memoryBytesPerSecond"/>.</summary>
    public static PostCopyResult Run(SimVm vm, long missingHotPages, long missingColdPages, double memoryBytesPerSecond, SimRandom random)
    {
        var pages = missingHotPages + missingColdPages;
        var seconds = pages * vm.PageSize / memoryBytesPerSecond;
        var hotTouchesPerPage = vm.HotPages == 0 ? 0 : vm.HotAccessRate / (double)vm.PageSize / vm.HotPages;
        var coldTouchesPerPage = vm.ColdPages == 0 ? 0 : 2.0 * vm.ColdDirtyRate / vm.PageSize / vm.ColdPages;
        var faults = random.Binomial(missingHotPages, FaultProbability(hotTouchesPerPage * seconds))
            + random.Binomial(missingColdPages, FaultProbability(coldTouchesPerPage * seconds));
        return new PostCopyResult(seconds, pages * vm.PageSize, faults);
    }

    /// <summary>Hines's pure post-copy: CPU state first, then all of memory, each page once.</summary>
    public static PostCopyResult Pure(SimVm vm, SimProfile profile, long capWireBytesPerSecond, ulong? seed = null)
    {
        var rate = profile.MemoryRate(capWireBytesPerSecond);
        var pages = Run(vm, vm.HotPages, vm.ColdPages, rate, new SimRandom(seed ?? vm.EffectiveSeed));
        return pages with { Seconds = pages.Seconds + profile.DeviceStateBytes / rate, Bytes = pages.Bytes + profile.DeviceStateBytes };
    }

    /// <summary>P(touched before it arrives) for a page touched <paramref name="touchesPerStream"/> times per stream length on average.</summary>
    static double FaultProbability(double touchesPerStream) =>
        touchesPerStream < 1e-9 ? touchesPerStream / 2 : 1 + double.ExpM1(-touchesPerStream) / touchesPerStream;
}
