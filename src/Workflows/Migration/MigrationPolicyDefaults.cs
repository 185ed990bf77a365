using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>The values a policy takes where the sender left them out, from the peers' defaults.</summary>
public static class MigrationPolicyDefaults
{
    public const int MaxDowntimeMs = 300;
    public const int MaxBandwidthMiBps = 1024;
    public const int CompletionTimeoutSecondsPerGiB = 150;
    public const int ProgressTimeoutSeconds = 150;

    public static MigrationPolicy Effective(MigrationPolicy? requested) => new(
        MaxDowntimeMs: requested?.MaxDowntimeMs ?? MaxDowntimeMs,
        MaxBandwidthMiBps: requested?.MaxBandwidthMiBps ?? MaxBandwidthMiBps,
        CompletionTimeoutSecondsPerGiB: requested?.CompletionTimeoutSecondsPerGiB ?? CompletionTimeoutSecondsPerGiB,
        ProgressTimeoutSeconds: requested?.ProgressTimeoutSeconds ?? ProgressTimeoutSeconds,
        AllowPostCopy: requested?.AllowPostCopy ?? false,
        AllowAutoConverge: requested?.AllowAutoConverge ?? true,
        Priority: requested?.Priority ?? 0);

    /// <summary><c>auto</c> picks hybrid where post-copy is allowed, plain pre-copy otherwise.</summary>
    public static string EffectiveStrategy(string? requested, MigrationPolicy policy) =>
        requested is null or MigrationStrategies.Auto
            ? policy.AllowPostCopy == true ? MigrationStrategies.Hybrid : MigrationStrategies.PreCopy
            : requested;
}
