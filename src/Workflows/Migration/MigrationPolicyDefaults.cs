using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>The values a policy takes where the sender left them out, from the peers' defaults.</summary>
public static class MigrationPolicyDefaults
{
    public const int MaxDowntimeMs = 300;
    public const int MaxBandwidthMiBps = 1024;
    public const int CompletionTimeoutSecondsPerGiB = 150;
    public const int ProgressTimeoutSeconds = 150;

    /// <summary>Each value from the request, else the named policy, else the default.</summary>
    public static MigrationPolicy Effective(MigrationPolicy? requested, MigrationPolicy? named = null) => new(
        MaxDowntimeMs: requested?.MaxDowntimeMs ?? named?.MaxDowntimeMs ?? MaxDowntimeMs,
        MaxBandwidthMiBps: requested?.MaxBandwidthMiBps ?? named?.MaxBandwidthMiBps ?? MaxBandwidthMiBps,
        CompletionTimeoutSecondsPerGiB: requested?.CompletionTimeoutSecondsPerGiB ?? named?.CompletionTimeoutSecondsPerGiB ?? CompletionTimeoutSecondsPerGiB,
        ProgressTimeoutSeconds: requested?.ProgressTimeoutSeconds ?? named?.ProgressTimeoutSeconds ?? ProgressTimeoutSeconds,
        AllowPostCopy: requested?.AllowPostCopy ?? named?.AllowPostCopy ?? false,
        AllowAutoConverge: requested?.AllowAutoConverge ?? named?.AllowAutoConverge ?? true,
        Priority: requested?.Priority ?? named?.Priority ?? 0,
        MultifdChannels: requested?.MultifdChannels ?? named?.MultifdChannels ?? 0,
        XbzrleCacheMiB: requested?.XbzrleCacheMiB ?? named?.XbzrleCacheMiB ?? 0);

    /// <summary><c>auto</c> picks hybrid where post-copy is allowed, plain pre-copy otherwise.</summary>
    public static string EffectiveStrategy(string? requested, MigrationPolicy policy) =>
        requested is null or MigrationStrategies.Auto
            ? policy.AllowPostCopy == true ? MigrationStrategies.Hybrid : MigrationStrategies.PreCopy
            : requested;
}
