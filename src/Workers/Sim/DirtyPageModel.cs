namespace Orchestrator.Workers.Sim;

/// <summary>
/// Which pages a guest dirties in an interval, over two page groups rather than per-page objects: the hot working set
/// and the cold tail. Writes land uniformly within a group, so after w writes to a group of n pages each page is dirty
/// with probability 1 − e^(−w/n); the count is drawn from that binomial with a seeded generator. A 4 GiB VM costs a
/// few arithmetic operations per pass.
/// </summary>
public sealed class DirtyPageModel(SimVm vm, SimRandom random)
{
    /// <summary>The hot and cold pages written at least once between <paramref name="start"/> and <paramref name="start"/> + <paramref name="seconds"/>.</summary>
    public (long Hot, long Cold) Dirtied(double start, double seconds, int throttlePercent)
    {
        var slowdown = (100 - Math.Clamp(throttlePercent, 0, 99)) / 100.0;
        var hotWrites = vm.HotBytesWritten(start, seconds) * slowdown / vm.PageSize;
        var coldWrites = vm.ColdDirtyRate * seconds * slowdown / vm.PageSize;
        return (Draw(vm.HotPages, hotWrites), Draw(vm.ColdPages, coldWrites));
    }

    long Draw(long pages, double writes) => pages == 0 ? 0 : random.Binomial(pages, -double.ExpM1(-writes / pages));
}
