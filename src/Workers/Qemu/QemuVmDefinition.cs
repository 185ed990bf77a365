using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// What a VM is made of, independent of the host it runs on: the destination of a migration is started with the same
/// definition. <see cref="MemoryKiB"/> is the guest RAM (<c>-m NK</c>); on QEMU 7.2 with TCG keep it a multiple of
/// 8 KiB but not of 256 KiB (e.g. 65528), which avoids an upstream dirty-tracking bug that corrupts guest memory
/// during multi-pass migration.
/// </summary>
/// <param name="Kernel">A multiboot or Linux kernel (<c>-kernel</c>), or null.</param>
/// <param name="Append">The kernel command line (<c>-append</c>).</param>
/// <param name="ExtraArgs">Further device arguments, identical on both sides of a migration.</param>
/// <param name="Disks">Local disks (not on shared storage): a raw image each in the VM's folder on every host, attached
/// as IDE drives in order (primary master first, at most four). A migration mirrors them to the target while the VM runs.</param>
public sealed record QemuVmDefinition(long MemoryKiB, string? Kernel = null, string? Append = null, IReadOnlyList<string>? ExtraArgs = null,
    IReadOnlyList<QemuDisk>? Disks = null)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    static readonly JsonSerializerOptions Compact = new(JsonSerializerDefaults.Web);

    [JsonIgnore]
    public long MemoryBytes => MemoryKiB * 1024;

    /// <summary>The disks, none when the definition has none.</summary>
    [JsonIgnore]
    public IReadOnlyList<QemuDisk> LocalDisks => Disks ?? [];

    /// <summary>The bytes of every disk together: what a migration mirrors besides the memory.</summary>
    [JsonIgnore]
    public long DiskBytes => LocalDisks.Sum(d => d.SizeBytes);

    /// <summary>
    /// The arguments that describe the machine: the same on every host but for the folder that holds the disk images
    /// (<paramref name="directory"/>, the VM's own on that host).
    /// </summary>
    public IEnumerable<string> DeviceArguments(string directory)
    {
        yield return "-accel";
        yield return "tcg";
        yield return "-nodefaults";
        yield return "-display";
        yield return "none";
        yield return "-m";
        yield return $"{MemoryKiB}K";
        if (Kernel is not null)
        {
            yield return "-kernel";
            yield return Kernel;
        }
        if (Append is not null)
        {
            yield return "-append";
            yield return Append;
        }
        for (var i = 0; i < LocalDisks.Count; i++)
        {
            var disk = LocalDisks[i];
            // A node per disk named by its id: the mirror's source on the source host, the NBD export on the target.
            yield return "-blockdev";
            yield return $"driver=file,filename={disk.ImagePath(directory)},node-name={disk.Id}-file";
            yield return "-blockdev";
            yield return $"driver=raw,file={disk.Id}-file,node-name={disk.Id}";
            yield return "-device";
            yield return $"ide-hd,drive={disk.Id},bus=ide.{i / 2},unit={i % 2}";
        }
        foreach (var argument in ExtraArgs ?? [])
            yield return argument;
    }

    /// <summary>Why this definition cannot be started, or null: the disks' ids, sizes and number.</summary>
    public string? Problem()
    {
        if (LocalDisks.Count > 4)
            return $"A VM has at most 4 disks (two IDE channels); this one has {LocalDisks.Count}.";
        foreach (var disk in LocalDisks)
            if (disk.Problem() is { } problem)
                return problem;
        var twice = LocalDisks.GroupBy(d => d.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return twice is null ? null : $"Disk id '{twice.Key}' is used twice.";
    }

    /// <summary>The definition as JSON: indented for <c>vm.json</c>, on one line for a message.</summary>
    public string ToJson(bool indented = true) => JsonSerializer.Serialize(this, indented ? Json : Compact);

    public static QemuVmDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<QemuVmDefinition>(json, Json) ?? throw new InvalidDataException("Empty VM definition.");
}

/// <summary>
/// A VM's local disk: <see cref="Id"/> names it in QEMU (the block node, the NBD export, the mirror job) and its image,
/// <c>&lt;id&gt;.raw</c> in the VM's folder, <see cref="SizeBytes"/> long (a multiple of 512).
/// </summary>
public sealed record QemuDisk(string Id, long SizeBytes)
{
    public string ImagePath(string directory) => Path.Combine(directory, $"{Id}.raw");

    /// <summary>Why this disk cannot be used, or null.</summary>
    public string? Problem() =>
        !System.Text.RegularExpressions.Regex.IsMatch(Id ?? "", "^[A-Za-z][A-Za-z0-9_-]{0,31}$")
            ? $"Invalid disk id '{Id}': a letter, then letters, digits, '-' and '_' (at most 32)."
            : SizeBytes <= 0 || SizeBytes % 512 != 0
                ? $"Disk '{Id}' has {SizeBytes} bytes: the size must be a positive multiple of 512."
                : null;
}
