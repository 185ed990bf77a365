using System.Security.Cryptography;
using System.Text;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Workflows.Drain;

/// <summary>
/// Where each VM of a drained host goes: largest VMs first, each to the target with the most free memory that fits it
/// (so the load spreads and big VMs are not squeezed out by small ones). A VM no target can take is reported with why.
/// </summary>
public static class DrainPlanner
{
    public static (IReadOnlyList<DrainMove> Moves, IReadOnlyList<DrainProblem> Unmovable) Plan(Guid drainId, HostDescription source,
        IReadOnlyList<HostDescription> targets, IReadOnlyList<string> unanswered)
    {
        var free = targets.Where(t => t.Host != source.Host).ToDictionary(t => t.Host, t => t.FreeBytes, StringComparer.Ordinal);
        var moves = new List<DrainMove>();
        var unmovable = new List<DrainProblem>();
        foreach (var vm in source.Vms.OrderByDescending(vm => vm.MemoryBytes).ThenBy(vm => vm.VmId, StringComparer.Ordinal))
        {
            var best = free.Where(t => t.Value >= vm.MemoryBytes).OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal)
                .Select(t => t.Key).FirstOrDefault();
            if (best is null)
            {
                unmovable.Add(new DrainProblem(vm.VmId, NoRoom(vm, free, unanswered)));
                continue;
            }
            free[best] -= vm.MemoryBytes;
            moves.Add(new DrainMove(vm.VmId, MigrationIdFor(drainId, vm.VmId), best, vm.MemoryBytes));
        }
        return (moves, unmovable);
    }

    /// <summary>The same drain always gives a VM the same migration id, so a redelivered drain starts no second migration.</summary>
    public static Guid MigrationIdFor(Guid drainId, string vmId)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{drainId:N}/{vmId}"))[..16];
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50);   // version 5 style: name-based
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);   // RFC 4122 variant
        return new Guid(bytes);
    }

    static string NoRoom(HostedVm vm, Dictionary<string, long> free, IReadOnlyList<string> unanswered)
    {
        var silent = unanswered.Count == 0 ? string.Empty : $" ({string.Join(", ", unanswered)} did not answer and were not considered)";
        if (free.Count == 0)
            return $"No target host is available{silent}.";
        var roomiest = free.MaxBy(t => t.Value);
        return $"No target has room for its {Gib(vm.MemoryBytes)}: the most free is {Gib(roomiest.Value)} on {roomiest.Key}{silent}.";
    }

    static string Gib(long bytes) => $"{bytes / (double)(1L << 30):0.#} GiB";
}
