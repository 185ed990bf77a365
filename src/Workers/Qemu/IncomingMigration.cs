using System.Text.Json;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// What a prepared destination waits for (<c>incoming.json</c> beside its QMP socket): the migration it was prepared
/// for, the URI its <c>migrate-incoming</c> listens on and where it exports the VM's disks (null: none). Read by the target host's own worker (a redelivered prepare,
/// a destroy); the source's worker learns the URI from <see cref="Contracts.Workers.BeginTransfer.IncomingUri"/>.
/// </summary>
public sealed record IncomingMigration(Guid MigrationId, string Uri, string? DiskExportUri = null)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static IncomingMigration? Read(string file) =>
        File.Exists(file) ? JsonSerializer.Deserialize<IncomingMigration>(File.ReadAllText(file)) : null;
}
