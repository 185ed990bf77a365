using Orchestrator.ReadModels.Attention;

namespace Orchestrator.Api;

/// <summary>The attention queue's settings (configuration section <c>Attention</c>).</summary>
public sealed class AttentionOptions
{
    public const string Section = "Attention";

    /// <summary>A migration that is not over and has had no event for longer than this counts as stuck (<c>Attention:StuckAfter</c>).</summary>
    public TimeSpan StuckAfter { get; set; } = AttentionQueries.DefaultStuckAfter;
}
