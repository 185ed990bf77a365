namespace Orchestrator.Contracts;

/// <summary>
/// Per-migration limits. Every member is optional: what is left out takes the orchestrator's defaults, and the values
/// in force are recorded in the <see cref="MigrationRequested"/> event.
/// </summary>
public sealed record MigrationPolicy(
    int? MaxDowntimeMs = null,
    int? MaxBandwidthMiBps = null,
    int? CompletionTimeoutSecondsPerGiB = null,
    int? ProgressTimeoutSeconds = null,
    bool? AllowPostCopy = null,
    bool? AllowAutoConverge = null,
    int? Priority = null);
