namespace Orchestrator.Contracts;

/// <summary>
/// A recovery began: the migration left <see cref="RecoveredFrom"/> for Reconciling, took the fencing epoch
/// <see cref="Epoch"/> (commands of the earlier incarnation are refused from now on) and asked both hosts where the VM runs.
/// </summary>
public sealed record MigrationRecoveryStarted(Guid MigrationId, string RecoveredFrom, int Epoch, string? RequestedBy, DateTimeOffset Timestamp) : IMigrationEvent;
