namespace Orchestrator.Workflows.Migration;

/// <summary>Internal to the workflow: the worker did not answer in <see cref="State"/> within its timeout.</summary>
public sealed record StepTimedOut(Guid MigrationId, Guid Token, string State);
