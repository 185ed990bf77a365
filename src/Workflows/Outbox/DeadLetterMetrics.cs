using System.Diagnostics.Metrics;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Workflows.Outbox;

/// <summary>Messages set aside, counted by where (meter <c>Orchestrator.Workflows</c>, <c>orchestrator.dead_letters</c>).</summary>
public static class DeadLetterMetrics
{
    static readonly Meter Meter = new(TransitionMetrics.MeterName);
    static readonly Counter<long> SetAside = Meter.CreateCounter<long>("orchestrator.dead_letters", "{message}", "Messages set aside after bounded attempts");

    public static void Count(string source) => SetAside.Add(1, new KeyValuePair<string, object?>("source", source));
}
