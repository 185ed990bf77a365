namespace Orchestrator.Tests.Qemu;

/// <summary>The tests on real QEMU share one orchestrator and run one after another (two cores: one migration at a time).</summary>
[CollectionDefinition(Name)]
public sealed class QemuCollection : ICollectionFixture<QemuOrchestrator>
{
    public const string Name = "Qemu";
}
