namespace Orchestrator.Workers.Sim;

/// <summary>A VM on its way to a host: the migration whose prepared destination holds memory for it.</summary>
public sealed record InboundVm(Guid MigrationId, string VmId);
