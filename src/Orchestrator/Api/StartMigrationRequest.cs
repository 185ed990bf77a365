using Orchestrator.Contracts;

namespace Orchestrator.Api;

/// <summary>
/// The body of <c>POST /api/migrations</c>: a <see cref="StartMigration"/> without <c>requestedBy</c> (the authenticated
/// client is the principal). <see cref="MigrationId"/> is optional: the API picks one when it is left out;
/// <see cref="SchemaVersion"/> too (version 1), and a version this release does not read is refused as on AMQP.
/// </summary>
public sealed record StartMigrationRequest(
    string? VmId,
    string? SourceHost,
    string? TargetHost,
    string? Hypervisor,
    Guid? MigrationId = null,
    string? Strategy = null,
    MigrationPolicy? Policy = null,
    Dictionary<string, string>? VmLabels = null,
    DateTimeOffset? Deadline = null,
    int? SchemaVersion = null)
{
    public StartMigration ToCommand(Guid migrationId, string principal) =>
        new(migrationId, VmId!, SourceHost!, TargetHost!, Hypervisor!, Strategy, Policy, principal, VmLabels,
            Deadline, SchemaVersion ?? PublicContract.DefaultSchemaVersion);
}
