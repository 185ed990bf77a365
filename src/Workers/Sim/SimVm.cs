namespace Orchestrator.Workers.Sim;

/// <summary>
/// A simulated VM's memory behaviour: its size, the writable working set it keeps rewriting and how fast it dirties it.
/// </summary>
public sealed record SimVm(string VmId, long MemoryBytes, long WorkingSetBytes, long DirtyRateBytesPerSecond)
{
    /// <summary>Optionally the workload changes: after this many seconds the guest dirties memory at <see cref="BurstDirtyRateBytesPerSecond"/>.</summary>
    public double? BurstAfterSeconds { get; init; }

    public long BurstDirtyRateBytesPerSecond { get; init; }

    /// <summary>The dirty rate <paramref name="elapsedSeconds"/> into the migration.</summary>
    public long DirtyRateAt(double elapsedSeconds) =>
        BurstAfterSeconds is { } after && elapsedSeconds >= after ? BurstDirtyRateBytesPerSecond : DirtyRateBytesPerSecond;

    const long MiB = 1024 * 1024;

    public const long PageSize = 4096;

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
