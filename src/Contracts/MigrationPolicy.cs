namespace Orchestrator.Contracts;

/// <summary>
/// Per-migration limits. Every member is optional: what is left out takes the orchestrator's defaults, and the values
/// in force are recorded in the <see cref="MigrationRequested"/> event.
/// </summary>
/// <param name="MultifdChannels">Parallel connections for the memory stream (QEMU's <c>multifd</c>, 1 to 255); 0: one
/// connection, multifd off (the default).</param>
/// <param name="XbzrleCacheMiB">XBZRLE delta compression of re-sent pages with a cache of this many MiB on the source (a
/// power of two); 0: off (the default).</param>
/// <param name="RequireEncryption">The memory stream moves only over TLS (QEMU's <c>tls-creds-x509</c>, each host's
/// credentials from its worker's <c>Qemu:TlsDirectory</c>); a host without credentials refuses the migration, it never
/// falls back to plain TCP. Default: on for the <c>qemu</c> hypervisor, off for <c>sim</c> (which moves no bytes).</param>
/// <param name="DiskMirrorDeadlineSeconds">How long the mirror of a VM's local disks may take to be ready, from its start;
/// past it the migration rolls back with the reason, the source disk the only truth. Default 600; 0: no deadline.</param>
public sealed record MigrationPolicy(
    int? MaxDowntimeMs = null,
    int? MaxBandwidthMiBps = null,
    int? CompletionTimeoutSecondsPerGiB = null,
    int? ProgressTimeoutSeconds = null,
    bool? AllowPostCopy = null,
    bool? AllowAutoConverge = null,
    int? Priority = null,
    int? MultifdChannels = null,
    int? XbzrleCacheMiB = null,
    bool? RequireEncryption = null,
    int? DiskMirrorDeadlineSeconds = null);
