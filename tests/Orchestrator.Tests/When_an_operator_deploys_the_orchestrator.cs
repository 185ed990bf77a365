using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Tests;

/// <summary>
/// The deployment files of the repository, checked as far as this machine can (it has no Docker engine, so no
/// <c>docker build</c> and no <c>docker compose up</c>): the compose file parses as YAML and hangs together, the
/// Dockerfile's stages do, and the systemd units pass <c>systemd-analyze verify</c> (test.sh installs systemd).
/// </summary>
public sealed partial class When_an_operator_deploys_the_orchestrator
{
    static readonly string Root = RepositoryRoot();

    [Fact]
    public void Should_find_every_service_of_the_compose_file_depending_only_on_services_that_exist()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(Root, "infra", "docker-compose.yml")))
            yaml.Load(reader);
        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        var names = services.Children.Keys.Select(key => ((YamlScalarNode)key).Value!).ToList();

        names.ShouldBe(["postgres", "rabbitmq", "serve", "worker"], ignoreOrder: true);
        foreach (var (key, node) in services.Children)
        {
            var service = (YamlMappingNode)node;
            var name = ((YamlScalarNode)key).Value;
            service.Children.ContainsKey("healthcheck").ShouldBeTrue($"{name} has a health check");
            if (!service.Children.TryGetValue("depends_on", out var dependsOn))
                continue;
            foreach (var (dependency, condition) in ((YamlMappingNode)dependsOn).Children)
            {
                names.ShouldContain(((YamlScalarNode)dependency).Value!, $"{name} depends on a service of this file");
                Scalar(condition, "condition").ShouldBe("service_healthy", $"{name} waits for {dependency} to be healthy");
            }
        }
    }

    [Theory]
    [InlineData("serve", "serve", "5080")]
    [InlineData("worker", "worker", "5081")]
    public void Should_build_the_role_from_the_dockerfile_and_check_its_readiness(string service, string role, string port)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(Root, "infra", "docker-compose.yml")))
            yaml.Load(reader);
        var node = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"])[service];

        var build = node["build"];
        var context = Path.GetFullPath(Path.Combine(Root, "infra", Scalar(build, "context")));
        File.Exists(Path.Combine(context, Scalar(build, "dockerfile"))).ShouldBeTrue("the build's Dockerfile exists in its context");
        var command = ((YamlSequenceNode)node["command"]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        command[0].ShouldBe(role);
        command.ShouldContain($"http://+:{port}");
        var test = ((YamlSequenceNode)node["healthcheck"]["test"]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        test.ShouldContain($"http://127.0.0.1:{port}/health/ready");
        if (role == "worker")
            command.Skip(1).ShouldBe(["--driver", "sim", "--host", "sim-a", "--host", "sim-b", "--urls", $"http://+:{port}"]);
    }

    [Fact]
    public void Should_build_in_the_sdk_image_and_run_the_executable_as_a_non_root_user()
    {
        var lines = DockerfileInstructions(File.ReadAllText(Path.Combine(Root, "Dockerfile")));
        var stages = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        stages.Count.ShouldBe(2);
        stages[0].line.ShouldStartWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build");
        stages[1].line.ShouldStartWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime");
        var build = lines[stages[0].i..stages[1].i];
        var runtime = lines[stages[1].i..];
        build.ShouldContain(line => line.StartsWith("RUN dotnet publish src/Orchestrator/Orchestrator.csproj -c Release", StringComparison.Ordinal));
        // Every file the build stage copies exists (the build context is the repository's root).
        foreach (var copy in build.Where(line => line.StartsWith("COPY ", StringComparison.Ordinal)))
            foreach (var source in copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
                Path.Exists(Path.Combine(Root, source)).ShouldBeTrue($"{source} ({copy})");
        runtime.ShouldContain("COPY --from=build /app ./");
        runtime.Last(line => line.StartsWith("USER ", StringComparison.Ordinal)).ShouldBe("USER $APP_UID");
        runtime.ShouldContain("ENTRYPOINT [\"/app/orchestrator\"]");
        // The executable's name in the image is the project's AssemblyName.
        File.ReadAllText(Path.Combine(Root, "src", "Orchestrator", "Orchestrator.csproj")).ShouldContain("<AssemblyName>orchestrator</AssemblyName>");
    }

    [Theory]
    [InlineData("orchestrator-serve.service")]
    [InlineData("orchestrator-worker@.service")]
    public async Task Should_pass_systemd_analyze_verify(string unit)
    {
        // verify insists that ExecStart's executable exists: the unit, with /opt/orchestrator/ pointed at a folder
        // holding this build's executable.
        var folder = Directory.CreateTempSubdirectory("orchestrator-units-");
        try
        {
            var install = Directory.CreateDirectory(Path.Combine(folder.FullName, "opt"));
            File.CreateSymbolicLink(Path.Combine(install.FullName, "orchestrator"), Path.Combine(AppContext.BaseDirectory, "orchestrator"));
            var text = File.ReadAllText(Path.Combine(Root, "infra", "systemd", unit));
            text.ShouldContain("ExecStart=/opt/orchestrator/orchestrator ");
            File.WriteAllText(Path.Combine(folder.FullName, unit), text.Replace("/opt/orchestrator/", install.FullName + "/", StringComparison.Ordinal));

            var (exitCode, output) = await Run("systemd-analyze", folder.FullName, "verify", "--man=no", Path.Combine(folder.FullName, unit));

            exitCode.ShouldBe(0, output);
            // Unknown keys and values systemd cannot parse are warnings only, with exit code 0: none here.
            output.Trim().ShouldBeEmpty();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Should_give_the_worker_unit_its_driver_and_hosts_from_an_environment_file()
    {
        var unit = File.ReadAllText(Path.Combine(Root, "infra", "systemd", "orchestrator-worker@.service"));
        unit.ShouldContain("EnvironmentFile=/etc/orchestrator/worker-%i.env");
        var example = File.ReadAllLines(Path.Combine(Root, "infra", "systemd", "worker.env.example"))
            .Where(line => line.Length > 0 && !line.StartsWith('#')).Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        // Every variable the command line uses is set by the example.
        foreach (Match variable in VariableReference().Matches(unit.Split('\n').Single(line => line.StartsWith("ExecStart=", StringComparison.Ordinal))))
            example.ShouldContainKey(variable.Groups[1].Value);
        example["ORCHESTRATOR_HOSTS"].ShouldBe("--host sim-a --host sim-b");
    }

    /// <summary>A Dockerfile's instructions, one a line: continuations joined, comments and blank lines dropped.</summary>
    static string[] DockerfileInstructions(string text) =>
        text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n')
            .Select(line => Regex.Replace(line.Trim(), @"\s+", " "))
            .Where(line => line.Length > 0 && !line.StartsWith('#')).ToArray();

    static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    static async Task<(int ExitCode, string Output)> Run(string file, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }

    static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found above the test binaries");
    }

    [GeneratedRegex(@"\$\{?([A-Z_]+)\}?")]
    private static partial Regex VariableReference();
}
