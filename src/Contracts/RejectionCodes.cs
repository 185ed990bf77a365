namespace Orchestrator.Contracts;

/// <summary>Machine-readable reasons of <see cref="MigrationRejected"/>.</summary>
public static class RejectionCodes
{
    public const string InvalidCommand = "invalid-command";
    public const string VmBusy = "vm-busy";

    /// <summary>The source host's worker found the migration cannot go ahead (kind, capacity, predicted downtime).</summary>
    public const string PreflightFailed = "preflight-failed";

    /// <summary>The VM's own history says pre-copy cannot converge within the policy, and the policy allows nothing else.</summary>
    public const string PredictedNotToConverge = "predicted-not-to-converge";

    /// <summary>The forecast ends the migration after the deadline its command set (or the deadline passed while it waited).</summary>
    public const string PredictedToMissDeadline = "predicted-to-miss-deadline";
}
