namespace Orchestrator.Contracts;

/// <summary>The names of the hypervisor steps, as workers report them in <see cref="MigrationStepFailed.Step"/>.</summary>
public static class MigrationSteps
{
    public const string Preflight = "Preflight";
    public const string PrepareTarget = "PrepareTarget";
    public const string Transfer = "Transfer";
    public const string PostCopy = "PostCopy";
    public const string Adjust = "Adjust";
    public const string SwitchToPostCopy = "SwitchToPostCopy";
    public const string CleanupSource = "CleanupSource";
    public const string AbortTransfer = "AbortTransfer";
    public const string DestroyTarget = "DestroyTarget";
    public const string Locate = "Locate";
}
