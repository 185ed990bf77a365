namespace Orchestrator.Workflows.Admission;

/// <summary>
/// One migration's place in admission: a slot it holds (<see cref="Active"/>) or a place in the queue. One document per
/// migration, so admitting one migration rewrites one small row, not a record of the whole cluster; the decisions are
/// serialised by <see cref="AdmissionBook"/>'s transaction lock instead of by optimistic retries on a shared document.
/// </summary>
public sealed class AdmissionSlot
{
    public Guid Id { get; set; }
    public string SourceHost { get; set; } = string.Empty;
    public string TargetHost { get; set; } = string.Empty;
    public int Priority { get; set; }
    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>Its command's deadline: among equal priorities, the earlier deadline goes first (none: last).</summary>
    public DateTimeOffset? Deadline { get; set; }
    public bool Active { get; set; }

    /// <summary>
    /// With the links scheduled (<see cref="Scheduling.HostLinkOptions.Schedule"/>): the bandwidth its forecast needs,
    /// known once its pre-flight check said how big the VM is; 0 before.
    /// </summary>
    public double NeededBytesPerSecond { get; set; }

    /// <summary>The most its policy lets it use.</summary>
    public double MaxBytesPerSecond { get; set; }

    /// <summary>It holds <see cref="NeededBytesPerSecond"/> on every link it crosses, and may send at <see cref="GrantedBytesPerSecond"/>.</summary>
    public bool HoldsLink { get; set; }

    public double GrantedBytesPerSecond { get; set; }

    /// <summary>The links it holds (<see cref="Scheduling.LinkUse.Key"/>), as they were when it took them.</summary>
    public List<string> LinkKeys { get; set; } = [];

    /// <summary>Queued after its pre-flight check for want of bandwidth, not of a slot: its need is known.</summary>
    public bool WaitsForLink { get; set; }
}
