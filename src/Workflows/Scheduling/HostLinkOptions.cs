namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// The network links hosts declare (configuration section <c>Links</c>): each host's link in MiB/s (the same in each
/// direction: full duplex), the default for a host not named (1,192 MiB/s: 10 Gbit/s), and optionally groups of hosts
/// (a rack) behind one shared uplink. The drain plan's forecast shares the drained host's uplink among its migrations.
/// With <see cref="Schedule"/> on, admission shares them too (<see cref="Admission.AdmissionBook"/>): a migration starts
/// its transfer only when every link it crosses has the bandwidth its forecast needs.
/// </summary>
public sealed class HostLinkOptions
{
    public const string Section = "Links";

    public int DefaultMiBps { get; set; } = 1192;

    public Dictionary<string, int> HostMiBps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Groups of hosts behind one uplink, by name: a migration leaving or entering the group crosses it.</summary>
    public Dictionary<string, LinkGroupOptions> Groups { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Admission shares the links by need, besides its fixed counts (off: only the counts, as before).</summary>
    public bool Schedule { get; set; }

    public double BytesPerSecondOf(string host) => (HostMiBps.TryGetValue(host, out var mibps) ? mibps : DefaultMiBps) * 1024.0 * 1024;

    /// <summary>
    /// Every link a migration from <paramref name="source"/> to <paramref name="target"/> crosses, each in its direction:
    /// the source's link out, the target's link in, and the uplink of each group it leaves or enters.
    /// </summary>
    public IReadOnlyList<LinkUse> LinksOf(string source, string target)
    {
        var links = new List<LinkUse>
        {
            new($"out:{source}", $"link of {source} (outbound)", BytesPerSecondOf(source)),
            new($"in:{target}", $"link of {target} (inbound)", BytesPerSecondOf(target)),
        };
        var from = GroupOf(source);
        var to = GroupOf(target);
        if (from != to)
        {
            if (from is not null)
                links.Add(new($"group-out:{from}", $"uplink of {from} (outbound)", Groups[from].MiBps * 1024.0 * 1024));
            if (to is not null)
                links.Add(new($"group-in:{to}", $"uplink of {to} (inbound)", Groups[to].MiBps * 1024.0 * 1024));
        }
        return links;
    }

    string? GroupOf(string host) => Groups.FirstOrDefault(g => g.Value.Hosts.Contains(host, StringComparer.Ordinal)).Key;
}

/// <summary>A group of hosts (a rack) behind one uplink of <see cref="MiBps"/>.</summary>
public sealed class LinkGroupOptions
{
    public int MiBps { get; set; }

    public List<string> Hosts { get; set; } = [];
}

/// <summary>One link a migration crosses, in one direction: a key to match others on it, its name for a reason, its capacity.</summary>
public sealed record LinkUse(string Key, string Name, double BytesPerSecond);
