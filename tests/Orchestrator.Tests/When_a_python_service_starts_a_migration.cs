using System.Diagnostics;
using System.Text.Json;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Issue 17: examples/python/start_migration.py (pika, no MassTransit, the published contract alone) starts a migration
/// on serve and a sim worker over real RabbitMQ, follows it on orchestrator.events and exits 0 on its completion.
/// </summary>
[Trait("Category", "Integration")]
[Collection(RabbitMqCollection.Name)]
public sealed class When_a_python_service_starts_a_migration(RabbitMqOrchestrator orchestrator)
{
    /// <summary>Debian's Python, which has python3-pika (test.sh installs it); a python3 earlier on the PATH may not.</summary>
    static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    [Fact]
    public async Task Should_exit_0_and_print_the_completion_of_the_migration_it_started()
    {
        var vm = $"vm-py-{Guid.NewGuid():N}"[..16];
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Repository.PathOf("examples", "python", "start_migration.py"));
        foreach (var argument in new[] { "--amqp", orchestrator.Settings.RabbitMq, "--vm", vm, "--source", "e2e-a", "--target", "e2e-b", "--timeout", "50" })
            start.ArgumentList.Add(argument);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(58));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var printed = await output;

        process.ExitCode.ShouldBe(0, printed + await error);
        var sent = printed.Split('\n')[0];
        sent.ShouldStartWith("sent StartMigration ");
        var id = Guid.Parse(sent.Split(' ')[2].TrimEnd(':'));
        printed.ShouldContain("-> CleaningUp");
        var outcome = JsonDocument.Parse(printed[printed.IndexOf("\n{", StringComparison.Ordinal)..]).RootElement;
        outcome.GetProperty("type").GetString().ShouldBe("orchestrator.migration.completed.v1");
        outcome.GetProperty("subject").GetString().ShouldBe(id.ToString());
        outcome.GetProperty("data").GetProperty("runningOn").GetString().ShouldBe("e2e-b");
        (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.Completed);
    }
}
