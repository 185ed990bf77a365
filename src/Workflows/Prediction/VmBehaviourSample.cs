namespace Orchestrator.Workflows.Prediction;

/// <summary>The dirtying fitted to one migration's pre-copy rounds.</summary>
public sealed record VmBehaviourSample(Guid MigrationId, DateTimeOffset EndedAt, DirtyBehaviour Behaviour);
