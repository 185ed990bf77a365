namespace Orchestrator.ReadModels.Migrations;

/// <summary>The states a migration summary shows; the same names the migration saga uses.</summary>
public static class MigrationStates
{
    public const string Requested = "Requested";
    public const string Queued = "Queued";
    public const string Checking = "Checking";
    public const string Preparing = "Preparing";
    public const string PreCopying = "PreCopying";
    public const string SwitchingOver = "SwitchingOver";
    public const string PostCopying = "PostCopying";
    public const string CleaningUp = "CleaningUp";
    public const string Completed = "Completed";
    public const string RollingBack = "RollingBack";
    public const string DestroyingTarget = "DestroyingTarget";
    public const string RolledBack = "RolledBack";
    public const string Cancelled = "Cancelled";
    public const string Rejected = "Rejected";
    public const string Failed = "Failed";
    public const string Reconciling = "Reconciling";

    public static IReadOnlyList<string> All { get; } =
    [
        Requested, Queued, Checking, Preparing, PreCopying, SwitchingOver, PostCopying, CleaningUp, Completed, RollingBack,
        DestroyingTarget, RolledBack, Cancelled, Rejected, Failed, Reconciling,
    ];

    public static bool IsTerminal(string state) => state is Completed or RolledBack or Cancelled or Rejected or Failed;
}
