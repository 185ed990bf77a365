using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orchestrator.Api;
using Orchestrator.Hosting;
using Orchestrator.Workers;
using Orchestrator.Workers.Qemu;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Persistence;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Tests;

/// <summary>
/// appsettings.example.json, shipped beside the executable: it names every setting of the README's Configuration table,
/// and copied as it is to appsettings.json it changes nothing (every value in it is the default).
/// </summary>
public sealed partial class When_an_operator_copies_the_example_settings
{
    static readonly string ExamplePath = Path.Combine(AppContext.BaseDirectory, "appsettings.example.json");

    readonly IConfiguration _example = new ConfigurationBuilder().AddJsonFile(ExamplePath, optional: false).Build();

    [Fact]
    public void Should_hold_the_defaults()
    {
        OrchestratorSettings.From(_example).ShouldBe(new OrchestratorSettings(OrchestratorSettings.DefaultPostgres, OrchestratorSettings.DefaultRabbitMq, OrchestratorSettings.DefaultSchema));
        ShouldBindToDefaults<AdmissionOptions>(AdmissionOptions.Section);
        ShouldBindToDefaults<TimeoutOptions>(TimeoutOptions.Section);
        ShouldBindToDefaults<ResilienceOptions>(ResilienceOptions.Section);
        ShouldBindToDefaults<GroupCommitOptions>(GroupCommitOptions.Section);
        ShouldBindToDefaults<Workflows.Migration.SagaEndpointOptions>(Workflows.Migration.SagaEndpointOptions.Section);
        ShouldBindToDefaults<Workflows.Intake.IntakeOptions>(Workflows.Intake.IntakeOptions.Section);
        ShouldBindToDefaults<AttentionOptions>(AttentionOptions.Section);
        ShouldBindToDefaults<WorkerOptions>(WorkerOptions.Section);
        ShouldBindToDefaults<QemuOptions>(QemuOptions.Section);
        var sim = _example.GetSection(SimOptions.Section).Get<SimOptions>()!;
        (sim.Profile, sim.HostMemoryBytes, sim.HostProfiles.Count, sim.Placements.Count).ShouldBe((new SimOptions().Profile, new SimOptions().HostMemoryBytes, 0, 0));
        _example.GetSection("Api:Clients").GetChildren().ShouldBeEmpty();
        _example.GetSection("MigrationPolicies:Policies").GetChildren().ShouldBeEmpty();
        _example["Cli:Api"].ShouldBe("http://127.0.0.1:5080");
        _example.GetValue<TimeSpan>("Metrics:GaugePeriod").ShouldBe(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Should_name_every_setting_of_the_readme_table()
    {
        var text = File.ReadAllText(ExamplePath);
        var keys = ReadmeConfigurationKeys();

        keys.Count.ShouldBeGreaterThan(30);
        foreach (var key in keys)
        {
            // A setting whose default is "none" appears commented out, as an example; every other one as a value.
            var segments = key.Split(':');
            var inJson = _example.GetSection(key).Exists() || _example.GetSection(string.Join(':', segments[..^1])).Exists() && text.Contains($"\"{segments[^1]}\"");
            inJson.ShouldBeTrue($"{key} is in appsettings.example.json");
        }
    }

    /// <summary>
    /// The keys of the README's Configuration table, first column: <c>Timeouts:Prepare</c>, and <c>…:Switchover</c>
    /// read as <c>Timeouts:Switchover</c>; a placeholder segment (HOST, VM, N) ends the key.
    /// </summary>
    static List<string> ReadmeConfigurationKeys()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Orchestrator.sln")))
            root = root.Parent ?? throw new InvalidOperationException("Orchestrator.sln not found above the test binaries");
        var readme = File.ReadAllText(Path.Combine(root.FullName, "README.md"));
        var table = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n\n", table.IndexOf('|'), StringComparison.Ordinal)];
        var keys = new List<string>();
        foreach (var row in table.Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal)))
        {
            var parent = "";
            foreach (Match match in Key().Matches(row.Split('|')[1]))
            {
                var key = match.Groups[1].Value.Replace("…", parent, StringComparison.Ordinal);
                parent = key[..key.LastIndexOf(':')];
                keys.Add(string.Join(':', key.Split(':').TakeWhile(segment => segment.Any(char.IsLower))));
            }
        }
        return keys;
    }

    void ShouldBindToDefaults<T>(string section) where T : new()
    {
        _example.GetSection(section).Exists().ShouldBeTrue(section);
        var bound = _example.GetSection(section).Get<T>()!;
        foreach (var property in typeof(T).GetProperties().Where(p => p.CanWrite))
            property.GetValue(bound).ShouldBe(property.GetValue(new T()), $"{section}:{property.Name}");
    }

    [GeneratedRegex("`((?:…|[A-Z][A-Za-z]*)(?::[A-Za-z]+)+)`")]
    private static partial Regex Key();
}
