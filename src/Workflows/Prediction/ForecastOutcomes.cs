namespace Orchestrator.Workflows.Prediction;

/// <summary>How a forecast migration ends.</summary>
public static class ForecastOutcomes
{
    /// <summary>Pre-copy reaches a downtime within the limit in force.</summary>
    public const string Converges = "converges";

    /// <summary>Pre-copy stalls and the policy switches to post-copy.</summary>
    public const string PostCopy = "post-copy";

    /// <summary>Pre-copy stalls and the policy can do nothing more: the migration would be aborted.</summary>
    public const string Aborts = "aborts";
}
