using System.Text.Json;

namespace Orchestrator.Tests;

/// <summary>
/// The executable's JIT settings (README, "The JIT's warm-up") are in the runtimeconfig.json every build and publish
/// puts beside it (inside it, for a single file), so serve and the workers run with them however they are started.
/// </summary>
public sealed class When_the_executable_is_built
{
    [Fact]
    public void Should_warm_up_with_no_instrumented_tier_and_no_counting_delay()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "orchestrator.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        properties.GetProperty("System.Runtime.TieredPGO").GetBoolean().ShouldBeFalse();
        properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32().ShouldBe(0);
    }
}
