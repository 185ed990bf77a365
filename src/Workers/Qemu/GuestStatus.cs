using System.Globalization;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// The status block of the project's test guest (tests/guest), read from guest-physical <see cref="Address"/> over QMP:
/// whether it runs, how far it got and whether its memory is intact; with a disk (<c>disk=KiB</c>), how far it rewrote
/// its disk and whether every sector held what it last wrote there.
/// </summary>
public sealed record GuestStatus(uint Magic, uint UptimeMs, uint Pass, uint PagesDirtied, uint IntegrityErrors, uint WorkingSetMiB,
    uint RateMiBps, uint PagesChecked, uint FirstErrorPage, uint DiskPass = 0, uint DiskSectorsWritten = 0, uint DiskIntegrityErrors = 0,
    uint FirstDiskErrorSector = uint.MaxValue, uint DiskSectors = 0, uint DiskIoErrors = 0, uint LastDiskIoError = 0)
{
    public const uint Address = 0x200000;
    public const uint ExpectedMagic = 0x51E57A7E;

    public bool IsRunning => Magic == ExpectedMagic;

    public static async Task<GuestStatus> ReadAsync(QmpClient qmp, CancellationToken cancellationToken = default) =>
        Parse(await qmp.HumanAsync($"xp /19wx 0x{Address:x}", cancellationToken));

    /// <summary>Parses HMP <c>xp /19wx</c> output (<c>0000000000200000: 0x51e57a7e 0x00000bb3 …</c>).</summary>
    public static GuestStatus Parse(string xp)
    {
        var words = xp.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .SelectMany(line => line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(word => word.StartsWith("0x", StringComparison.Ordinal))
            .Select(word => uint.Parse(word.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .ToArray();
        if (words.Length < 9)
            throw new FormatException($"Not a guest status block: {xp}");
        return words.Length < 18
            ? new GuestStatus(words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7], words[8])
            : new GuestStatus(words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7], words[8],
                words[12], words[13], words[14], words[15], words[16], words[17], words.Length > 18 ? words[18] : 0);
    }
}
