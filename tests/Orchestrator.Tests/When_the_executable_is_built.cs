using System.Text.Json;

namespace Orchestrator.Tests;

/// <summary>
/// The executable's JIT setting (README, "The JIT's warm-up") is in the runtimeconfig.json every build and publish puts
/// beside it (inside it, for a single file), so serve and the workers run with it however they are started.
/// </summary>
public sealed class When_the_executable_is_built
{
    [Fact]
    public void Should_warm_up_with_no_instrumented_tier()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "orchestrator.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        properties.GetProperty("System.Runtime.TieredPGO").GetBoolean().ShouldBeFalse();
    }
}
