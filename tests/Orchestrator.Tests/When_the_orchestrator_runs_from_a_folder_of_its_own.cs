using System.Diagnostics;
using System.Net;
using System.Text;

namespace Orchestrator.Tests;

/// <summary>
/// An install: the executable in a folder of its own with its appsettings.json beside it, started from another working
/// directory (as systemd or a container starts it). The settings beside it apply; a working directory's own
/// appsettings.json wins over them; the environment wins over both. The processes work in a schema and a RabbitMQ
/// virtual host of their own (<see cref="ChaosRig"/>).
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_the_orchestrator_runs_from_a_folder_of_its_own : IAsyncLifetime
{
    // A worker's HTTP port logs "Now listening on" once it listens: at Information only with the override below.
    const string BesideSettings = """
        { "Serilog": { "Format": "json", "MinimumLevel": { "Override": { "Microsoft.Hosting.Lifetime": "Information" } } },
          "Cli": { "Api": "ftp://beside-the-executable.invalid" } }
        """;

    // A copy of the build beside the test binaries' folder: the settings written into it reach no other test.
    readonly DirectoryInfo _install = new(Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!,
        $"install-{Guid.NewGuid():N}"));
    readonly DirectoryInfo _workingDirectory = Directory.CreateTempSubdirectory("orchestrator-cwd-");
    ChaosRig _rig = null!;

    string BesidePath => Path.Combine(_install.FullName, "appsettings.json");

    public async ValueTask InitializeAsync()
    {
        Copy(new DirectoryInfo(AppContext.BaseDirectory), _install);
        File.WriteAllText(BesidePath, BesideSettings);
        _rig = await ChaosRig.Create("cfg");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_rig is not null)
                await _rig.DisposeAsync();
        }
        finally
        {
            _install.Delete(recursive: true);
            _workingDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Should_read_the_settings_beside_the_executable()
    {
        var output = await RunWorkerUntilListening();

        output.Split('\n').ShouldContain(line => line.StartsWith("{\"@t\":", StringComparison.Ordinal) && line.Contains("Now listening on"),
            $"a JSON log line (Serilog:Format=json beside the executable):\n{output}");
    }

    [Fact]
    public async Task Should_let_the_working_directorys_settings_win_over_those_beside_the_executable()
    {
        File.WriteAllText(Path.Combine(_workingDirectory.FullName, "appsettings.json"), """{ "Serilog": { "Format": "text" } }""");

        var output = await RunWorkerUntilListening();

        // The override from beside the executable still applies; the working directory's format wins.
        output.Split('\n').ShouldContain(line => line.Contains(" INF] Now listening on"), output);
        output.ShouldNotContain("{\"@t\":");
    }

    [Fact]
    public async Task Should_read_them_in_a_command_that_runs_no_host_and_let_the_environment_win()
    {
        var (exitCode, output) = await Run([], "list");
        exitCode.ShouldBe(64, $"a usage error: the address from beside the executable is not http(s)\n{output}");
        output.ShouldContain("ftp://beside-the-executable.invalid");

        var (_, withEnvironment) = await Run(new Dictionary<string, string> { ["ORCHESTRATOR_API"] = "ftp://from-the-environment.invalid" }, "list");
        withEnvironment.ShouldContain("ftp://from-the-environment.invalid");
    }

    [Fact]
    public async Task Should_serve_where_the_urls_setting_beside_the_executable_says()
    {
        var port = PrivateService.FreePort();
        File.WriteAllText(BesidePath, $$"""{ "urls": "http://127.0.0.1:{{port}}" }""");
        using var serve = Start([], "serve");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var status = await Eventually.Get(() => HttpProbe.Status(http, "/health/ready"), s => s == HttpStatusCode.OK || serve.Process.HasExited,
            "serve to be ready where the settings say", TimeSpan.FromSeconds(90));

        status.ShouldBe(HttpStatusCode.OK, ChaosRig.Tail(serve.Output));
    }

    async Task<string> RunWorkerUntilListening()
    {
        var port = PrivateService.FreePort();
        using var process = Start([], "worker", "--driver", "sim", "--host", "cfg-a", "--urls", $"http://127.0.0.1:{port}");
        try
        {
            return await Eventually.Get(() => Task.FromResult(process.Output), output => output.Contains("Now listening on"),
                "the worker to listen", TimeSpan.FromSeconds(60));
        }
        finally
        {
            process.Kill();
        }
    }

    async Task<(int ExitCode, string Output)> Run(Dictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.Process.WaitForExitAsync(timeout.Token);
        process.Process.WaitForExit();
        return (process.Process.ExitCode, process.Output);
    }

    Launched Start(Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _workingDirectory.FullName };
        start.ArgumentList.Add(Path.Combine(_install.FullName, "orchestrator.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // What the test run's environment may say about these settings would hide the files'.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Serilog__", StringComparison.Ordinal) || k.StartsWith("ORCHESTRATOR_API", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in _rig.Environment(1).Concat(environment))
            start.Environment[key] = value;
        return new Launched(Process.Start(start)!);
    }

    static void Copy(DirectoryInfo from, DirectoryInfo to)
    {
        to.Create();
        foreach (var file in from.GetFiles())
            if (!file.Name.StartsWith("appsettings.", StringComparison.Ordinal) || file.Name == "appsettings.example.json")
                file.CopyTo(Path.Combine(to.FullName, file.Name));
        foreach (var directory in from.GetDirectories())
            Copy(directory, new DirectoryInfo(Path.Combine(to.FullName, directory.Name)));
    }

    sealed class Launched : IDisposable
    {
        readonly StringBuilder _output = new();

        public Launched(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, line) => Append(line.Data);
            process.ErrorDataReceived += (_, line) => Append(line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                    return _output.ToString();
            }
        }

        void Append(string? line)
        {
            if (line is null)
                return;
            lock (_output)
                _output.AppendLine(line);
        }

        public void Kill()
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        public void Dispose()
        {
            Kill();
            Process.Dispose();
        }
    }
}
