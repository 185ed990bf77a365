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
public sealed record QemuVmDefinition(long MemoryKiB, string? Kernel = null, string? Append = null, IReadOnlyList<string>? ExtraArgs = null)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    static readonly JsonSerializerOptions Compact = new(JsonSerializerDefaults.Web);

    [JsonIgnore]
    public long MemoryBytes => MemoryKiB * 1024;

    /// <summary>The arguments that describe the machine: the same on every host.</summary>
    public IEnumerable<string> DeviceArguments()
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
        foreach (var argument in ExtraArgs ?? [])
            yield return argument;
    }

    /// <summary>The definition as JSON: indented for <c>vm.json</c>, on one line for a message.</summary>
    public string ToJson(bool indented = true) => JsonSerializer.Serialize(this, indented ? Json : Compact);

    public static QemuVmDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<QemuVmDefinition>(json, Json) ?? throw new InvalidDataException("Empty VM definition.");
}
