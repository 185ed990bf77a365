namespace Orchestrator.Contracts;

/// <summary>The values <see cref="StartMigration.Strategy"/> accepts.</summary>
public static class MigrationStrategies
{
    public const string PreCopy = "precopy";
    public const string PostCopy = "postcopy";
    public const string Hybrid = "hybrid";
    public const string Auto = "auto";

    public static IReadOnlyList<string> All { get; } = [PreCopy, PostCopy, Hybrid, Auto];

    public static bool IsKnown(string? strategy) => strategy is not null && All.Contains(strategy);
}
