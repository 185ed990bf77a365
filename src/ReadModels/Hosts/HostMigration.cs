namespace Orchestrator.ReadModels.Hosts;

/// <summary>One migration that is not over yet, as one of its two hosts sees it.</summary>
public sealed class HostMigration
{
    public Guid MigrationId { get; set; }
    public string? VmId { get; set; }

    /// <summary><see cref="HostLoad.Outbound"/> on the source host, <see cref="HostLoad.Inbound"/> on the target.</summary>
    public string Direction { get; set; } = HostLoad.Outbound;

    /// <summary><see cref="HostLoad.Requested"/>, <see cref="HostLoad.Queued"/> or <see cref="HostLoad.Active"/>.</summary>
    public string Status { get; set; } = HostLoad.Requested;

    public DateTimeOffset Since { get; set; }
}
