using System.Text.Json;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// What a prepared destination waits for (<c>incoming.json</c> beside its QMP socket): the migration it was prepared
/// for and the URI its <c>migrate-incoming</c> listens on. Read by the target host's own worker (a redelivered prepare,
/// a destroy); the source's worker learns the URI from <see cref="Contracts.Workers.BeginTransfer.IncomingUri"/>.
/// </summary>
public sealed record IncomingMigration(Guid MigrationId, string Uri)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static IncomingMigration? Read(string file) =>
        File.Exists(file) ? JsonSerializer.Deserialize<IncomingMigration>(File.ReadAllText(file)) : null;
}
