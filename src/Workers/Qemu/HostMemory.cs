using System.Globalization;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// This machine's memory as Linux reports it in <c>/proc/meminfo</c>: the total, and what new processes can get without
/// swapping (MemAvailable, which already leaves out what the running QEMUs hold).
/// </summary>
public sealed record HostMemory(long TotalBytes, long AvailableBytes)
{
    public static HostMemory Read(string path = "/proc/meminfo") => Parse(File.ReadAllText(path));

    /// <summary>Reads the <c>MemTotal</c> and <c>MemAvailable</c> lines (<c>MemTotal:  24683520 kB</c>).</summary>
    public static HostMemory Parse(string meminfo)
    {
        long? total = null, available = null;
        foreach (var line in meminfo.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split([':', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                continue;
            var bytes = parts.Length > 2 && parts[2] == "kB" ? value * 1024 : value;
            if (parts[0] == "MemTotal")
                total = bytes;
            else if (parts[0] == "MemAvailable")
                available = bytes;
        }
        return total is { } t && available is { } a
            ? new HostMemory(t, a)
            : throw new InvalidDataException("/proc/meminfo has no MemTotal or MemAvailable line: set Qemu:HostMemoryMiB.");
    }
}
