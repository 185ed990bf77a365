namespace Orchestrator.Contracts.Workers;

/// <summary>What every command to a worker carries: the migration it belongs to and the fencing epoch it was sent under.</summary>
public interface IWorkerCommand
{
    Guid MigrationId { get; }

    int Epoch { get; }
}
