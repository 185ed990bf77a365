using Orchestrator.ReadModels.Attention;

namespace Orchestrator.Api;

/// <summary>The attention queue's settings (configuration section <c>Attention</c>).</summary>
public sealed class AttentionOptions
{
    public const string Section = "Attention";

    /// <summary>A migration that is not over and has had no event for longer than this counts as stuck (<c>Attention:StuckAfter</c>).</summary>
    public TimeSpan StuckAfter { get; set; } = AttentionQueries.DefaultStuckAfter;

    /// <summary>How long a migration stays on the queue after a message of it was set aside as a dead letter (<c>Attention:DeadLettersFor</c>).</summary>
    public TimeSpan DeadLettersFor { get; set; } = AttentionQueries.DefaultDeadLettersFor;
}
