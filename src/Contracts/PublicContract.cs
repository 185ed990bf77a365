namespace Orchestrator.Contracts;

/// <summary>
/// The public contract in one list: the commands other services send and the integration events they may bind to, each
/// with the schema version this release reads or writes. docs/asyncapi.json and docs/schemas/ are generated from it
/// (and tested against it); docs/integrate.md says what may change without a new version.
/// </summary>
public static class PublicContract
{
    /// <summary>
    /// The durable topic exchange where every integration event is also published as a CloudEvent (structured mode,
    /// <c>application/cloudevents+json</c>), routed by <see cref="PublicEvent.Name"/>: for services without MassTransit.
    /// </summary>
    public const string EventsExchange = "orchestrator.events";

    /// <summary>The CloudEvents <c>source</c> of every event on <see cref="EventsExchange"/>.</summary>
    public const string EventSource = "urn:orchestrator";

    /// <summary>The version a message that carries no <c>schemaVersion</c> has.</summary>
    public const int DefaultSchemaVersion = 1;

    public static IReadOnlyList<PublicCommand> Commands { get; } =
    [
        new(typeof(StartMigration), QueueNames.StartMigration, 1),
        new(typeof(CancelMigration), QueueNames.CancelMigration, 1),
        new(typeof(ForceCompleteMigration), QueueNames.ForceCompleteMigration, 1),
        new(typeof(RecoverMigration), QueueNames.RecoverMigration, 1),
        new(typeof(DrainHost), QueueNames.DrainHost, 1),
    ];

    public static IReadOnlyList<PublicEvent> Events { get; } =
    [
        new(typeof(MigrationRequested), "migration.requested", 1),
        new(typeof(MigrationQueued), "migration.queued", 1),
        new(typeof(MigrationAdmitted), "migration.admitted", 1),
        new(typeof(MigrationStateChanged), "migration.state-changed", 1),
        new(typeof(MigrationCompleted), "migration.completed", 1),
        new(typeof(MigrationFailed), "migration.failed", 1),
        new(typeof(MigrationRolledBack), "migration.rolled-back", 1),
        new(typeof(MigrationCancelled), "migration.cancelled", 1),
        new(typeof(MigrationRejected), "migration.rejected", 1),
        new(typeof(CommandRefused), "command.refused", 1),
        new(typeof(HostDrainRequested), "drain.requested", 1),
        new(typeof(HostDrainPlanned), "drain.planned", 1),
        new(typeof(HostDrainFailed), "drain.failed", 1),
        new(typeof(AuditCheckpointTaken), "audit.checkpoint-taken", 1),
    ];

    /// <summary>The command of this type, or null when the type is no public command.</summary>
    public static PublicCommand? Command(Type type) => Commands.FirstOrDefault(c => c.Type == type);

    /// <summary>The event of this type, or null when the type is no integration event.</summary>
    public static PublicEvent? Event(Type type) => Events.FirstOrDefault(e => e.Type == type);
}
