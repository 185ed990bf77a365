namespace Orchestrator.Workflows.Resilience;

/// <summary>How long the workflows wait out an infrastructure outage (configuration section <c>Resilience</c>).</summary>
public sealed class ResilienceOptions
{
    public const string Section = "Resilience";

    /// <summary>
    /// How long a message whose transaction failed for a transient reason (the database or the broker away) is retried
    /// before it goes to its endpoint's _error queue. A migration's outcome does not depend on an outage shorter than this.
    /// </summary>
    public TimeSpan OutageBudget { get; set; } = TimeSpan.FromMinutes(5);
}
