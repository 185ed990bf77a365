namespace Orchestrator.Tests.Qemu;

/// <summary>
/// The tests on real QEMU share one orchestrator and run one after another, and not beside other collections: with two
/// cores, TCG guests and the timing-sensitive end-to-end tests would slow each other down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QemuCollection : ICollectionFixture<QemuOrchestrator>
{
    public const string Name = "Qemu";
}
