namespace Orchestrator.Workers.Drivers;

/// <summary>
/// A prepared target: <see cref="IncomingUri"/> is where its destination listens for the migration stream, at an address
/// the source host can reach (null for hypervisors that need none). It travels to the source's worker in the messages.
/// <see cref="DiskExportUri"/>: where the target exports the VM's local disks for the source to mirror into; null when none.
/// </summary>
public sealed record TargetPreparation(string? IncomingUri, string? DiskExportUri = null)
{
    public static readonly TargetPreparation NoUri = new(IncomingUri: null);
}
