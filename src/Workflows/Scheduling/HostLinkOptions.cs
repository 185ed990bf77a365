namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// The network links hosts declare (configuration section <c>Links</c>): each host's uplink in MiB/s, and the default
/// for a host not named (1,192 MiB/s: 10 Gbit/s). The drain plan's forecast shares the drained host's uplink among its
/// migrations.
/// </summary>
public sealed class HostLinkOptions
{
    public const string Section = "Links";

    public int DefaultMiBps { get; set; } = 1192;

    public Dictionary<string, int> HostMiBps { get; set; } = new(StringComparer.Ordinal);

    public double BytesPerSecondOf(string host) => (HostMiBps.TryGetValue(host, out var mibps) ? mibps : DefaultMiBps) * 1024.0 * 1024;
}
