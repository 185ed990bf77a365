using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// How long each part of a saga transition takes, as a histogram (meter <c>Orchestrator.Workflows</c>, instrument
/// <c>orchestrator.transition.duration</c>, tag <c>stage</c>): <c>read</c> (the inbox check and the saga's load),
/// <c>commit</c> (the one transaction, waited for), <c>group</c> (one group commit, see <see cref="GroupCommitter"/>), <c>deliver</c> (the first outgoing message confirmed by the broker) and
/// <c>total</c>. Any metrics listener (OpenTelemetry, dotnet-counters, the benchmark) can read it.
/// </summary>
public static class TransitionMetrics
{
    public const string MeterName = "Orchestrator.Workflows";
    public const string InstrumentName = "orchestrator.transition.duration";

    static readonly Meter Meter = new(MeterName);
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(InstrumentName, "ms", "Time spent in one stage of a saga transition");

    /// <summary>Instrument <c>orchestrator.transition.group_size</c>: how many transitions each commit of the <see cref="GroupCommitter"/> held.</summary>
    public const string GroupSizeName = "orchestrator.transition.group_size";

    static readonly Histogram<int> GroupSize = Meter.CreateHistogram<int>(GroupSizeName, "{transition}", "Saga transitions committed in one transaction");

    static long _applied;

    /// <summary>Saga messages this process has applied (its <c>total</c> stage), the pace the intake's back-pressure reads (see Intake.SagaBacklog).</summary>
    public static long Applied => Interlocked.Read(ref _applied);

    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>A saga message applied: its whole time as stage <c>total</c>, and one more in <see cref="Applied"/>.</summary>
    public static void RecordApplied(long startedAt)
    {
        Interlocked.Increment(ref _applied);
        Record("total", startedAt);
    }

    /// <summary>A group commit of <paramref name="members"/> transitions: its size, and its time as stage <c>group</c>.</summary>
    public static void RecordGroup(int members, long startedAt)
    {
        if (GroupSize.Enabled)
            GroupSize.Record(members);
        Record("group", startedAt);
    }

    public static void Record(string stage, long startedAt)
    {
        if (Duration.Enabled)
            Duration.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("stage", stage));
    }
}
