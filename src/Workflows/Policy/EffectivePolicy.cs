using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Policy;

/// <summary>
/// The limits in force for one migration, every one of them set: built once, when the migration is accepted, from the
/// command's <see cref="MigrationPolicy"/>, else the named policy that selects it, else the defaults (the peers'), and
/// kept on the saga. The wire's <see cref="MigrationPolicy"/>, whose members are optional, stays at the edge: in the
/// command that brings it, the configuration that names policies, and the <see cref="MigrationRequested"/> that records
/// this one (<see cref="ToRecorded"/>).
/// </summary>
/// <remarks>
/// The members are named as <see cref="MigrationPolicy"/>'s, with the same JSON: a saga stored before this type existed
/// held a <see cref="MigrationPolicy"/> with every member set (by the same merge), and it loads as this one. A saga
/// stored before multifd and XBZRLE existed has no such members; they load as 0, off, as they were then; one stored before
/// encryption existed loads with <see cref="RequireEncryption"/> off: its stream was plain TCP; one stored before disks moved
/// loads with no mirror deadline (0).
/// </remarks>
public sealed record EffectivePolicy(
    int MaxDowntimeMs,
    int MaxBandwidthMiBps,
    int CompletionTimeoutSecondsPerGiB,
    int ProgressTimeoutSeconds,
    bool AllowPostCopy,
    bool AllowAutoConverge,
    int Priority,
    int MultifdChannels = 0,
    int XbzrleCacheMiB = 0,
    bool RequireEncryption = false,
    int DiskMirrorDeadlineSeconds = 0)
{
    /// <summary>What a migration gets when neither its command nor a named policy says otherwise.</summary>
    public static EffectivePolicy Defaults { get; } = new(
        MaxDowntimeMs: 300,
        MaxBandwidthMiBps: 1024,
        CompletionTimeoutSecondsPerGiB: 150,
        ProgressTimeoutSeconds: 150,
        AllowPostCopy: false,
        AllowAutoConverge: true,
        Priority: 0,
        MultifdChannels: 0,
        XbzrleCacheMiB: 0,
        DiskMirrorDeadlineSeconds: 600);

    /// <summary>
    /// Each value from the request, else the named policy, else the default. <see cref="RequireEncryption"/>'s default
    /// depends on the <paramref name="hypervisor"/>: on for <c>qemu</c> (a real memory stream), off otherwise.
    /// </summary>
    public static EffectivePolicy From(MigrationPolicy? requested, MigrationPolicy? named = null, string? hypervisor = null) => new(
        MaxDowntimeMs: requested?.MaxDowntimeMs ?? named?.MaxDowntimeMs ?? Defaults.MaxDowntimeMs,
        MaxBandwidthMiBps: requested?.MaxBandwidthMiBps ?? named?.MaxBandwidthMiBps ?? Defaults.MaxBandwidthMiBps,
        CompletionTimeoutSecondsPerGiB: requested?.CompletionTimeoutSecondsPerGiB ?? named?.CompletionTimeoutSecondsPerGiB
            ?? Defaults.CompletionTimeoutSecondsPerGiB,
        ProgressTimeoutSeconds: requested?.ProgressTimeoutSeconds ?? named?.ProgressTimeoutSeconds ?? Defaults.ProgressTimeoutSeconds,
        AllowPostCopy: requested?.AllowPostCopy ?? named?.AllowPostCopy ?? Defaults.AllowPostCopy,
        AllowAutoConverge: requested?.AllowAutoConverge ?? named?.AllowAutoConverge ?? Defaults.AllowAutoConverge,
        Priority: requested?.Priority ?? named?.Priority ?? Defaults.Priority,
        MultifdChannels: requested?.MultifdChannels ?? named?.MultifdChannels ?? Defaults.MultifdChannels,
        XbzrleCacheMiB: requested?.XbzrleCacheMiB ?? named?.XbzrleCacheMiB ?? Defaults.XbzrleCacheMiB,
        RequireEncryption: requested?.RequireEncryption ?? named?.RequireEncryption ?? EncryptionByDefault(hypervisor),
        DiskMirrorDeadlineSeconds: requested?.DiskMirrorDeadlineSeconds ?? named?.DiskMirrorDeadlineSeconds ?? Defaults.DiskMirrorDeadlineSeconds);

    /// <summary>Whether a migration on <paramref name="hypervisor"/> is encrypted when no policy says: QEMU's stream carries the VM's memory.</summary>
    public static bool EncryptionByDefault(string? hypervisor) => hypervisor == HypervisorKinds.Qemu;

    /// <summary>The strategy a request gets: <c>auto</c> (or none) picks hybrid where post-copy is allowed, plain pre-copy otherwise.</summary>
    public string StrategyFor(string? requested) =>
        requested is null or MigrationStrategies.Auto
            ? AllowPostCopy ? MigrationStrategies.Hybrid : MigrationStrategies.PreCopy
            : requested;

    /// <summary>The values in force as <see cref="MigrationRequested"/> records them: the wire's type, every member set.</summary>
    public MigrationPolicy ToRecorded() => new(
        MaxDowntimeMs, MaxBandwidthMiBps, CompletionTimeoutSecondsPerGiB, ProgressTimeoutSeconds, AllowPostCopy, AllowAutoConverge,
        Priority, MultifdChannels, XbzrleCacheMiB, RequireEncryption, DiskMirrorDeadlineSeconds);
}
