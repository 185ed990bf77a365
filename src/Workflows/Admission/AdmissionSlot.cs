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
    public bool Active { get; set; }
}
