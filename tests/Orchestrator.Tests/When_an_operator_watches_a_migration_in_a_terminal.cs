using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Orchestrator.Api;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// <c>orchestrator watch ID</c> in a real terminal (tmux), during a real migration on the sim workers: what the operator
/// sees, frame by frame, is captured into the test log.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_an_operator_watches_a_migration_in_a_terminal(RabbitMqOrchestrator orchestrator) : IAsyncLifetime
{
    readonly string _session = $"orchestrator-watch-{Guid.NewGuid():N}"[..30];
    ApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await ApiServer.StartAsync(orchestrator.Settings);

    public async ValueTask DisposeAsync()
    {
        await Tmux("kill-session", "-t", _session);
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Should_show_phase_round_and_progress_live_and_end_with_the_outcome()
    {
        using var client = _api.Client(ApiRoles.Operator);
        var body = $$$"""{"vmId":"{{{RabbitMqOrchestrator.WatchedVm}}}","sourceHost":"e2e-a","targetHost":"e2e-b","hypervisor":"sim","policy":{"maxBandwidthMiBps":1,"maxDowntimeMs":60000}}""";
        var started = await client.PostAsync("/api/migrations", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("migrationId").GetGuid();
        await Eventually.Get(() => orchestrator.Summary(id), s => s?.State == MigrationStates.PreCopying, "the first pass to begin");

        (await Tmux("new-session", "-d", "-s", _session, "-x", "110", "-y", "24", "bash --norc --noprofile")).ShouldBe(0);
        var cli = Path.Combine(AppContext.BaseDirectory, "orchestrator.dll");
        await Tmux("send-keys", "-t", _session,
            $"ORCHESTRATOR_API={_api.Address} ORCHESTRATOR_API_KEY={ApiServer.Keys[ApiRoles.Viewer]} dotnet {cli} watch {id} --interval-ms 200; printf 'EXIT%s=%d\\n' '' $?", "Enter");

        var frames = new List<string>();
        var last = await Eventually.Get(async () =>
        {
            var frame = await Capture();
            if (frames.Count == 0 || frames[^1] != frame)
                frames.Add(frame);
            return frame;
        // The typed line reads EXIT%s=%d; only the printed exit status reads EXIT=N.
        }, frame => frame.Contains("EXIT="), "watch to follow the migration to its end", TimeSpan.FromSeconds(90));

        var output = TestContext.Current.TestOutputHelper!;
        foreach (var (frame, i) in frames.Select((f, i) => (f, i)))
            output.WriteLine($"----- frame {i} of the tmux pane -----\n{frame.TrimEnd()}");
        frames.ShouldContain(f => f.Contains("PreCopying") && f.Contains("Progress") && f.Contains('░'), "a frame during pre-copy with its progress bar");
        last.ShouldContain("Completed");
        last.ShouldContain("100 %");
        last.ShouldContain("EXIT=0");
        last.ShouldContain($"{RabbitMqOrchestrator.WatchedVm}: e2e-a → e2e-b");
    }

    Task<string> Capture() => Output("capture-pane", "-p", "-t", _session);

    static async Task<int> Tmux(params string[] arguments) => (await RunTmux(arguments)).ExitCode;

    static async Task<string> Output(params string[] arguments) => (await RunTmux(arguments)).Output;

    static async Task<(int ExitCode, string Output)> RunTmux(string[] arguments)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
