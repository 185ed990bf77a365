using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// How long each part of a saga transition takes, as a histogram (meter <c>Orchestrator.Workflows</c>, instrument
/// <c>orchestrator.transition.duration</c>, tag <c>stage</c>): <c>read</c> (the inbox check and the saga's load),
/// <c>commit</c> (the one transaction), <c>deliver</c> (the first outgoing message confirmed by the broker) and
/// <c>total</c>. Any metrics listener (OpenTelemetry, dotnet-counters, the benchmark) can read it.
/// </summary>
public static class TransitionMetrics
{
    public const string MeterName = "Orchestrator.Workflows";
    public const string InstrumentName = "orchestrator.transition.duration";

    static readonly Meter Meter = new(MeterName);
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(InstrumentName, "ms", "Time spent in one stage of a saga transition");

    public static long Start() => Stopwatch.GetTimestamp();

    public static void Record(string stage, long startedAt)
    {
        if (Duration.Enabled)
            Duration.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("stage", stage));
    }
}
