namespace Orchestrator.ReadModels.Hosts;

/// <summary>
/// What one host is doing: the migrations leaving it and arriving on it that are admitted and not over, and those
/// waiting in the admission queue. Rebuilt from the migration streams alone (see <see cref="HostLoadProjection"/>).
/// </summary>
public sealed class HostLoad
{
    public const string Outbound = "outbound";
    public const string Inbound = "inbound";
    public const string Requested = "requested";
    public const string Queued = "queued";
    public const string Active = "active";

    /// <summary>The host's name.</summary>
    public string Id { get; set; } = string.Empty;

    public int ActiveOutbound { get; set; }
    public int ActiveInbound { get; set; }

    /// <summary>Migrations from or to this host that wait in the admission queue.</summary>
    public int QueuedOutbound { get; set; }

    public int QueuedInbound { get; set; }

    /// <summary>Every migration ever requested from or to this host, whatever its outcome.</summary>
    public int TotalOutbound { get; set; }

    public int TotalInbound { get; set; }

    /// <summary>The time of the last event that changed this host's load (from the event, never the clock).</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The migrations counted above, oldest first.</summary>
    public List<HostMigration> Migrations { get; set; } = [];

    internal void Recount()
    {
        ActiveOutbound = Count(Outbound, Active);
        ActiveInbound = Count(Inbound, Active);
        QueuedOutbound = Count(Outbound, Queued);
        QueuedInbound = Count(Inbound, Queued);
    }

    int Count(string direction, string status) => Migrations.Count(m => m.Direction == direction && m.Status == status);
}
