namespace Orchestrator.ReadModels.Attention;

/// <summary>One line of the attention queue: which migration, why it needs an operator, and since when nothing happened.</summary>
public sealed record AttentionEntry(
    Guid MigrationId,
    string? VmId,
    string Kind,
    string Reason,
    string State,
    string? FailedIn,
    string? Hypervisor,
    string? SourceHost,
    string? TargetHost,
    string? VmRunningOn,
    DateTimeOffset LastEventAt,
    string? LastEventType);
