using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Migration;

/// <summary>
/// The integration events the workflows publish for other services. Their exchanges are declared when the bus starts
/// (not at the first publish), so a service may bind to one before anything has happened and get no NOT_FOUND.
/// </summary>
public static class PublishedEvents
{
    /// <summary>Every integration event of the public contract: the migrations', the drains' and the audit checkpoints'.</summary>
    public static IReadOnlyList<Type> All { get; } = [.. PublicContract.Events.Select(e => e.Type)];
}
