namespace Orchestrator.Workers.Sim;

/// <summary>
/// A simulated VM's memory behaviour: its size in pages, the writable working set (hot pages) it keeps rewriting at
/// <see cref="DirtyRateBytesPerSecond"/>, and a cold tail written rarely (<see cref="ColdDirtyRateBytesPerSecond"/>).
/// Which pages a pass finds dirty follows from these rates (<see cref="DirtyPageModel"/>).
/// </summary>
public sealed record SimVm(string VmId, long MemoryBytes, long WorkingSetBytes, long DirtyRateBytesPerSecond)
{
    public const long DefaultPageSize = 4096;
    const long MiB = 1024 * 1024;

    public long PageSize { get; init; } = DefaultPageSize;

    /// <summary>Writes per second to the cold tail (memory outside the working set); null: a hundredth of the hot rate.</summary>
    public long? ColdDirtyRateBytesPerSecond { get; init; }

    /// <summary>
    /// Reads and writes per second to the working set, which decide post-copy's page faults; null: twice the dirty rate
    /// (as many reads as writes). The cold tail is touched at twice its write rate.
    /// </summary>
    public long? HotAccessRateBytesPerSecond { get; init; }

    /// <summary>The hypervisor profile this VM's migrations follow (<see cref="SimProfiles"/>); null: its host's, else the worker's.</summary>
    public string? Profile { get; init; }

    /// <summary>Seed of the VM's random page choices; null: derived from its id. Each migration mixes its own id in.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Optionally the workload changes: after this many seconds the guest dirties memory at <see cref="BurstDirtyRateBytesPerSecond"/>.</summary>
    public double? BurstAfterSeconds { get; init; }

    public long BurstDirtyRateBytesPerSecond { get; init; }

    public long Pages => MemoryBytes / PageSize;

    public long HotPages => Math.Min(Pages, (WorkingSetBytes + PageSize - 1) / PageSize);

    public long ColdPages => Pages - HotPages;

    public long ColdDirtyRate => ColdDirtyRateBytesPerSecond ?? DirtyRateBytesPerSecond / 100;

    public long HotAccessRate => HotAccessRateBytesPerSecond ?? 2 * DirtyRateBytesPerSecond;

    public ulong EffectiveSeed => Seed ?? (ulong)StableHash(VmId);

    /// <summary>The dirty rate <paramref name="elapsedSeconds"/> into the migration.</summary>
    public long DirtyRateAt(double elapsedSeconds) =>
        BurstAfterSeconds is { } after && elapsedSeconds >= after ? BurstDirtyRateBytesPerSecond : DirtyRateBytesPerSecond;

    /// <summary>Bytes written to the working set between <paramref name="start"/> and <paramref name="start"/> + <paramref name="seconds"/>.</summary>
    public double HotBytesWritten(double start, double seconds)
    {
        if (BurstAfterSeconds is not { } after || start + seconds <= after || start >= after)
            return DirtyRateAt(start) * seconds;
        return DirtyRateBytesPerSecond * (after - start) + BurstDirtyRateBytesPerSecond * (start + seconds - after);
    }

    /// <summary>A VM whose characteristics follow from its id alone, so every run of the same fleet behaves alike.</summary>
    public static SimVm FromId(string vmId)
    {
        var seed = StableHash(vmId);
        long[] memoryGiB = [1, 2, 4, 8];
        var memory = memoryGiB[seed % 4] * 1024 * MiB;
        var workingSet = (64 + (seed / 4 % 8) * 32) * MiB;
        var dirtyRate = (20 + (seed / 32 % 10) * 15) * MiB;
        return new SimVm(vmId, memory, workingSet, dirtyRate);
    }

    static long StableHash(string text)
    {
        // FNV-1a: string.GetHashCode is randomised per process, this is not.
        ulong hash = 14695981039346656037;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 1099511628211;
        }
        return (long)(hash % int.MaxValue);
    }
}
