using Orchestrator.Workflows.Admission;

namespace Orchestrator.Workflows.Scheduling;

/// <summary>
/// How the migrations holding links share them: each gets its need, and on every link it crosses an even part of what
/// the needs there leave spare; its share is the smallest over its links, at most its policy's maximum. Pure: admission
/// works it out again whenever a migration takes or gives up its links.
/// </summary>
public static class LinkShares
{
    const double MiB = 1024 * 1024;

    public static IEnumerable<(AdmissionSlot Holder, double Share)> Of(IReadOnlyList<AdmissionSlot> holders, HostLinkOptions links)
    {
        foreach (var holder in holders)
        {
            var share = holder.MaxBytesPerSecond;
            foreach (var link in links.LinksOf(holder.SourceHost, holder.TargetHost))
            {
                var on = holders.Where(h => h.LinkKeys.Contains(link.Key)).ToList();
                if (on.Count == 0)
                    continue;
                var spare = Math.Max(0, link.BytesPerSecond - on.Sum(h => Math.Min(h.NeededBytesPerSecond, link.BytesPerSecond)));
                share = Math.Min(share, Math.Min(holder.NeededBytesPerSecond, link.BytesPerSecond) + spare / on.Count);
            }
            yield return (holder, Math.Max(share, MiB));
        }
    }
}
