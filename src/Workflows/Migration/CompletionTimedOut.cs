namespace Orchestrator.Workflows.Migration;

/// <summary>Internal to the workflow: pre-copy ran longer than the policy's completion timeout for the VM's memory.</summary>
public sealed record CompletionTimedOut(Guid MigrationId, Guid Token);
