namespace Orchestrator.Contracts;

/// <summary>
/// Moves every VM off <see cref="Host"/>, under the admission limits, to those of the <see cref="Targets"/> that have room.
/// One tracked operation: its stream is <see cref="DrainId"/>.
/// Sending the same command twice starts one drain.
/// </summary>
public sealed record DrainHost(Guid DrainId, string Host, string Hypervisor, IReadOnlyList<string> Targets, string? RequestedBy = null, int SchemaVersion = 1);
