using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Hosting;

namespace Orchestrator.Hosting;

/// <summary>
/// Where every command reads its settings, the later winning: <c>appsettings.json</c> and
/// <c>appsettings.{Environment}.json</c> beside the executable (<see cref="AppContext.BaseDirectory"/>: what an install
/// ships, found whatever the working directory), then the same two files in the working directory (a local override,
/// the host builders' own), then the environment (<c>Section__Key</c>), then the command line.
/// </summary>
public static class OrchestratorConfiguration
{
    public const string FileName = "appsettings.json";

    /// <summary>
    /// Puts the files beside the executable under a host builder's own (those of its content root, the working
    /// directory), so that those and the environment still win. Nothing is added when the two folders are one.
    /// </summary>
    public static void AddBesideExecutable(IConfigurationBuilder configuration, string environmentName)
    {
        if (SameFolder(AppContext.BaseDirectory, Directory.GetCurrentDirectory()))
            return;
        var index = configuration.Sources.Select((source, i) => (source, i))
            .FirstOrDefault(s => s.source is JsonConfigurationSource { Path: FileName }).i;
        // No file source of the host's own (index 0 then): beside the executable comes first of all.
        foreach (var source in BesideExecutable(environmentName).Reverse())
            configuration.Sources.Insert(index, source);
    }

    /// <summary>The settings of a command that runs no host: the same files, in the same order, and the environment.</summary>
    public static IConfiguration Load()
    {
        var environmentName = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environments.Production;
        var builder = new ConfigurationBuilder();
        foreach (var source in BesideExecutable(environmentName))
            builder.Add(source);
        if (!SameFolder(AppContext.BaseDirectory, Directory.GetCurrentDirectory()))
            foreach (var source in InFolder(Directory.GetCurrentDirectory(), environmentName))
                builder.Add(source);
        return builder.AddEnvironmentVariables().Build();
    }

    static IEnumerable<JsonConfigurationSource> BesideExecutable(string environmentName) => InFolder(AppContext.BaseDirectory, environmentName);

    static IEnumerable<JsonConfigurationSource> InFolder(string folder, string environmentName) =>
        [File(folder, FileName), File(folder, $"appsettings.{environmentName}.json")];

    static JsonConfigurationSource File(string folder, string name)
    {
        var source = new JsonConfigurationSource { Path = Path.Combine(folder, name), Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        return source;
    }

    static bool SameFolder(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
}
