using Marten;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Tests;

/// <summary>
/// Invariant 1 under a real crash: `orchestrator serve` is SIGKILLed at a point of a migration and started again; the
/// migration ends as an uninterrupted one would, with no duplicated events and no lost command. Its own RabbitMQ
/// virtual host and schema: nothing else consumes its queues.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_the_orchestrator_process_is_killed : IAsyncLifetime
{
    RabbitVhost _vhost = null!;
    readonly TestSchema _schema = TestSchema.Create("chaos");
    OrchestratorSettings _settings = null!;
    DocumentStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _vhost = await RabbitVhost.Create("chaos");
        var rabbit = _vhost.ConnectionString;
        _settings = new OrchestratorSettings(TestServices.Postgres, rabbit, _schema.Name);
        _store = OrchestratorStore(_settings);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _store.DisposeAsync();
            await _vhost.DisposeAsync();
        }
        finally
        {
            await _schema.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("Preparing")]
    [InlineData("PreCopying")]
    [InlineData("SwitchingOver")]
    public async Task Should_finish_the_migration_after_a_restart_with_no_duplicated_events(string killAt)
    {
        var environment = Environment();
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "chaos-a", "--host", "chaos-b",
            "--real-time-factor", "0.02");
        var serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        var vm = $"vm-chaos-{killAt.ToLowerInvariant()}";
        // About a second per pass over the whole memory, so there is a pre-copy to kill.
        var bandwidth = (int)Math.Max(1, SimVm.FromId(vm).MemoryBytes / (1L << 20) / 50);
        var id = Guid.NewGuid();
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq))
            {
                // Both processes are up once their queues exist (the exchange binding may still be on its way, so the
                // command goes straight into the queue).
                await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", "chaos-a")),
                    up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(60));
                var policy = $$"""{"maxBandwidthMiBps":{{bandwidth}},"maxDowntimeMs":60000}""";
                await client.PublishToQueue(QueueNames.StartMigration, $$"""
                    {"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"chaos-a","targetHost":"chaos-b","hypervisor":"sim","strategy":"precopy","policy":{{policy}} }
                    """);
            }
            try
            {
                await Eventually.Get(() => Summary(id), s => Reached(s, killAt), $"the migration to reach {killAt}", TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException timeout)
            {
                throw new TimeoutException($"{timeout.Message}\n--- serve ---\n{Tail(serve.Output)}\n--- worker ---\n{Tail(worker.Output)}", timeout);
            }
            serve.Kill();
            serve.Dispose();
            serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");

            var summary = await Eventually.Get(() => Summary(id), s => s is { IsTerminal: true }, "the migration to end after the restart",
                TimeSpan.FromSeconds(90));

            summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
            summary.RunningOn.ShouldBe("chaos-b");
            await using var session = _store.QuerySession();
            var events = (await session.History(id)).Select(e => e.Data).ToList();
            ShouldHaveNoStepTwice(events);
            // The restarted instance checked the in-flight migration against the hosts (when the check's answers came
            // before the end): one answer per host, and the hosts agreed, so nothing was recovered or aborted.
            events.OfType<VmLocated>().Select(l => l.Host).ShouldBeUnique();
            events.OfType<MigrationReconciled>().ShouldAllBe(r => r.Verdict == RecoveryVerdicts.Continue);
            events.OfType<MigrationRecoveryStarted>().ShouldBeEmpty();
            events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ShouldBeUnique();
            events.OfType<MigrationForecastRefreshed>().Select(r => r.AfterRound).ShouldBeUnique();
            (await ChainVerifier.Verify(_store, id)).Intact.ShouldBeTrue();
        }
        finally
        {
            serve.Dispose();
        }
    }

    /// <summary>
    /// Group commit under a real crash: serve kills itself (fault injection, <see cref="GroupCommitter.KillInGroupCommitVariable"/>)
    /// as soon as a group of several migrations' transitions has committed, before any of their inputs is acknowledged or
    /// any of their messages sent. After a restart the inputs come again and find their inbox records, the messages go
    /// from the outbox, and every migration ends as an uninterrupted one would: none lost a step, none recorded one twice,
    /// every chain is whole.
    /// </summary>
    [Fact]
    public async Task Should_finish_every_migration_of_a_group_commit_it_died_in()
    {
        var environment = Environment();
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "chaos-a", "--host", "chaos-b",
            "--real-time-factor", "0.02");
        var dying = new Dictionary<string, string>(environment) { [GroupCommitter.KillInGroupCommitVariable] = "2" };
        var serve = OrchestratorProcess.Start(dying, "serve", "--urls", "http://127.0.0.1:0");
        var ids = Enumerable.Range(0, 24).Select(_ => Guid.NewGuid()).ToList();
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq))
            {
                await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", "chaos-a")),
                    up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(60));
                // Many at once, both ways, so that transitions of different migrations are ready together.
                foreach (var (id, i) in ids.Select((id, i) => (id, i)))
                    await client.PublishToQueue(QueueNames.StartMigration, $$"""
                        {"migrationId":"{{id}}","vmId":"vm-group-{{i}}","sourceHost":"{{(i % 2 == 0 ? "chaos-a" : "chaos-b")}}","targetHost":"{{(i % 2 == 0 ? "chaos-b" : "chaos-a")}}","hypervisor":"sim","strategy":"precopy","policy":{"maxDowntimeMs":60000} }
                        """);
            }
            await serve.Exited(TimeSpan.FromSeconds(90));
            serve.Output.ShouldContain("killed with a group commit of");
            serve.Dispose();
            serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");

            foreach (var id in ids)
            {
                var summary = await Eventually.Get(() => Summary(id), s => s is { IsTerminal: true }, $"migration {id} to end after the restart",
                    TimeSpan.FromSeconds(120));
                summary!.State.ShouldBe(MigrationStates.Completed, summary.Reason);
                await using var session = _store.QuerySession();
                var events = (await session.History(id)).Select(e => e.Data).ToList();
                ShouldHaveNoStepTwice(events);
                events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ShouldBeUnique();
                events.OfType<StopAndCopyCompleted>().Count().ShouldBe(1);
                (await ChainVerifier.Verify(_store, id)).Intact.ShouldBeTrue();
            }
        }
        finally
        {
            serve.Dispose();
        }
    }

    [Fact]
    public async Task Should_not_hang_when_the_worker_dies_mid_transfer_but_roll_back_once_it_is_back()
    {
        var environment = Environment();
        environment["Worker__HeartbeatInterval"] = "00:00:00.500";
        environment["Timeouts__Rollback"] = "00:00:02";
        environment["Timeouts__MaxAttempts"] = "10";
        string[] workerArguments = ["worker", "--driver", "sim", "--host", "chaos-a", "--host", "chaos-b", "--real-time-factor", "0.02"];
        var worker = OrchestratorProcess.Start(environment, workerArguments);
        using var serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        const string vm = "vm-chaos-worker";
        var bandwidth = (int)Math.Max(1, SimVm.FromId(vm).MemoryBytes / (1L << 20) / 200);
        var id = Guid.NewGuid();
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(_settings.RabbitMq))
            {
                await Eventually.Get(async () => await client.QueueExists(QueueNames.StartMigration) && await client.QueueExists(QueueNames.Worker("sim", "chaos-a")),
                    up => up, "the orchestrator and the worker to start", TimeSpan.FromSeconds(60));
                var policy = $$"""{"maxBandwidthMiBps":{{bandwidth}},"maxDowntimeMs":60000,"progressTimeoutSeconds":2}""";
                await client.PublishToQueue(QueueNames.StartMigration, $$"""
                    {"migrationId":"{{id}}","vmId":"{{vm}}","sourceHost":"chaos-a","targetHost":"chaos-b","hypervisor":"sim","strategy":"precopy","policy":{{policy}} }
                    """);
            }
            await Eventually.Get(() => Summary(id), s => s?.State == MigrationStates.PreCopying, "the transfer to start", TimeSpan.FromSeconds(60));

            worker.Kill();
            worker.Dispose();
            // Heartbeats stop: the progress timeout notices and the workflow starts rolling back instead of waiting forever.
            var noticed = await Eventually.Get(() => Summary(id), s => s?.State == MigrationStates.RollingBack, "the dead worker to be noticed",
                TimeSpan.FromSeconds(30));
            noticed!.Reason.ShouldNotBeNull().ShouldContain("No progress from the source host chaos-a");
            worker = OrchestratorProcess.Start(environment, workerArguments);

            var summary = await Eventually.Get(() => Summary(id), s => s is { IsTerminal: true }, "the rollback to finish", TimeSpan.FromSeconds(60));
            summary!.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
            summary.RunningOn.ShouldBe("chaos-a");
        }
        finally
        {
            worker.Dispose();
        }
    }

    /// <summary>Every step recorded once: each event type once (but the ones a migration repeats), each state entered once.</summary>
    static void ShouldHaveNoStepTwice(IReadOnlyList<object> events)
    {
        events.GroupBy(e => e.GetType()).Where(g => g.Key != typeof(PreCopyRoundCompleted) && g.Key != typeof(MigrationPolicyAdjusted)
                && g.Key != typeof(VmLocated) && g.Key != typeof(MigrationStateChanged) && g.Key != typeof(MigrationForecastRefreshed))
            .ShouldAllBe(g => g.Count() == 1, string.Join(", ", events.Select(e => e.GetType().Name)));
        events.OfType<MigrationStateChanged>().Select(c => c.ToState).ShouldBeUnique();
    }

    static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;

    static bool Reached(MigrationSummary? summary, string state) => summary is not null && state switch
    {
        "Preparing" => summary.State != MigrationStates.Requested,
        "PreCopying" => summary.Rounds >= 1 || summary.IsTerminal,
        _ => summary.State is MigrationStates.SwitchingOver or MigrationStates.CleaningUp || summary.IsTerminal,
    };

    async Task<MigrationSummary?> Summary(Guid id)
    {
        await using var session = _store.QuerySession();
        return await session.Summary(id);
    }

    Dictionary<string, string> Environment() => new()
    {
        ["ConnectionStrings__Postgres"] = _settings.Postgres,
        ["ConnectionStrings__RabbitMq"] = _settings.RabbitMq,
        ["Orchestrator__Schema"] = _settings.Schema,
        ["Timeouts__Prepare"] = "00:00:30",
    };

    static DocumentStore OrchestratorStore(OrchestratorSettings settings) => DocumentStore.For(options => Roles.Configure(options, settings));

}
