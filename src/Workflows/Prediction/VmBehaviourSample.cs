namespace Orchestrator.Workflows.Prediction;

/// <summary>
/// The dirtying fitted to one migration's pre-copy rounds, and what its first pass sent (<see cref="FirstPassBytes"/>,
/// when its first round reported it): less than the memory when the guest has pages it never wrote, which a hypervisor
/// sends as zero pages (QEMU), almost for free.
/// </summary>
public sealed record VmBehaviourSample(Guid MigrationId, DateTimeOffset EndedAt, DirtyBehaviour Behaviour, long? FirstPassBytes = null);
