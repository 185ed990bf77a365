namespace Orchestrator.Workers.Drivers;

/// <summary>
/// A prepared target: <see cref="IncomingUri"/> is where its destination listens for the migration stream, at an address
/// the source host can reach (null for hypervisors that need none). It travels to the source's worker in the messages.
/// </summary>
public sealed record TargetPreparation(string? IncomingUri)
{
    public static readonly TargetPreparation NoUri = new(IncomingUri: null);
}
