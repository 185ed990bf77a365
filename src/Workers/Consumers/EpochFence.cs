using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Orchestrator.Workers.Consumers;

/// <summary>
/// Fencing: the highest epoch this worker has seen per migration. A command with a lower epoch comes from an
/// incarnation of the migration that has been superseded (a recovery took over) and must not act on a VM. Each new
/// highest epoch is written to <see cref="WorkerOptions.StateDirectory"/> before the command it admits runs, so a worker
/// that restarts still refuses the commands it had fenced off.
/// </summary>
public sealed class EpochFence(IOptions<WorkerOptions> options)
{
    static readonly TimeSpan Keep = TimeSpan.FromDays(30);
    readonly ConcurrentDictionary<Guid, int> _highest = new();
    readonly object _write = new();
    int _pruned;

    /// <summary>True when <paramref name="epoch"/> is current for the migration (and records it); false when stale.</summary>
    public bool Admit(Guid migrationId, int epoch)
    {
        var directory = options.Value.StateDirectory;
        if (string.IsNullOrEmpty(directory))
            return epoch >= _highest.AddOrUpdate(migrationId, epoch, (_, seen) => Math.Max(seen, epoch));

        lock (_write)
        {
            var seen = _highest.GetOrAdd(migrationId, id => Read(directory, id));
            if (epoch < seen)
                return false;
            if (epoch > seen)
            {
                Write(directory, migrationId, epoch);
                _highest[migrationId] = epoch;
            }
            return true;
        }
    }

    static string FileOf(string directory, Guid migrationId) => Path.Combine(directory, $"{migrationId:N}.epoch");

    static int Read(string directory, Guid migrationId) =>
        File.Exists(FileOf(directory, migrationId))
        && int.TryParse(File.ReadAllText(FileOf(directory, migrationId)), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch)
            ? epoch
            : 0;

    void Write(string directory, Guid migrationId, int epoch)
    {
        Directory.CreateDirectory(directory);
        if (Interlocked.Exchange(ref _pruned, 1) == 0)
            Prune(directory);
        // Written beside, then renamed over: a crash mid-write leaves the previous epoch, never a torn file.
        var file = FileOf(directory, migrationId);
        var temporary = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, epoch.ToString(CultureInfo.InvariantCulture));
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>Once per process: forgets the epochs of migrations nobody has commanded for a month.</summary>
    static void Prune(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*.epoch"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > Keep)
                File.Delete(file);
        }
    }
}
