using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// The integration events the workflows publish for other services. Their exchanges are declared when the bus starts
/// (not at the first publish), so a service may bind to one before anything has happened and get no NOT_FOUND.
/// </summary>
public static class PublishedEvents
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(MigrationStateChanged), typeof(MigrationRejected), typeof(MigrationCompleted), typeof(MigrationRolledBack),
        typeof(MigrationCancelled), typeof(MigrationFailed), typeof(CommandRefused),
        // Published by serve's audit checkpoints (the executable's AuditCheckpointService), not by a saga.
        typeof(AuditCheckpointTaken),
    ];
}
