namespace Orchestrator.Workers.Sim;

/// <summary>A simulated host's VMs (<see cref="Resident"/>) and the VMs promised to it by prepared destinations (<see cref="Inbound"/>).</summary>
public sealed record SimHostLoad(IReadOnlyList<string> Resident, IReadOnlyList<InboundVm> Inbound)
{
    public static readonly SimHostLoad Empty = new([], []);

    /// <summary>The memory the host holds or has promised, with each VM's size from <paramref name="memoryOf"/>.</summary>
    public long CommittedBytes(Func<string, long> memoryOf) => ResidentBytes(memoryOf) + InboundBytes(memoryOf);

    public long ResidentBytes(Func<string, long> memoryOf) => Resident.Sum(memoryOf);

    public long InboundBytes(Func<string, long> memoryOf) => Inbound.Sum(inbound => memoryOf(inbound.VmId));

    /// <summary>The load without <paramref name="migrationId"/>'s own promise.</summary>
    public SimHostLoad Without(Guid migrationId) => new(Resident, [.. Inbound.Where(inbound => inbound.MigrationId != migrationId)]);
}
