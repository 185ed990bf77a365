using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Orchestrator.Bench;

/// <summary>
/// The .NET runtime's allocation sampling in this process (an <c>AllocationTick</c> event about every 100 KiB, naming
/// the type of the object that crossed the mark): which types a run allocates most, with no profiler attached. On when
/// <c>ORCHESTRATOR_BENCH_ALLOCATIONS=1</c>.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    const EventKeywords GcKeyword = (EventKeywords)0x1;
    readonly ConcurrentDictionary<string, long> _bytes = new();
    volatile bool _counting;

    public static bool Wanted => Environment.GetEnvironmentVariable("ORCHESTRATOR_BENCH_ALLOCATIONS") == "1";

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_counting || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
            return;
        var name = e.PayloadNames!.IndexOf("TypeName") is var at and >= 0 ? e.Payload[at] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(name, amount, (_, total) => total + amount);
    }

    public void Start()
    {
        _bytes.Clear();
        _counting = true;
    }

    /// <summary>The types that took most of the sampled bytes, per transition.</summary>
    public IEnumerable<string> Top(long transitions, int count = 25)
    {
        _counting = false;
        var total = _bytes.Values.Sum();
        foreach (var (type, bytes) in _bytes.OrderByDescending(b => b.Value).Take(count))
            yield return $"{bytes / 1024.0 / Math.Max(1, transitions),8:0.0} KiB/transition {100.0 * bytes / Math.Max(1, total),5:0.0} %  {type}";
    }
}
