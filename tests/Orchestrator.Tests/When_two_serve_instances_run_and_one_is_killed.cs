using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Tests;

/// <summary>
/// Two `orchestrator serve` processes consume one saga queue while 200 migrations run; one is SIGKILLed midway. Every
/// migration completes with every step's event in its stream (the stop-and-copy too: it carries the downtime), its
/// rounds in the order the worker produced them, and a downtime above 0. Real processes, a vhost and schema of the
/// test's own.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_two_serve_instances_run_and_one_is_killed : IAsyncLifetime
{
    const int Migrations = 200;
    const int HostPairs = 4;
    ChaosRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await ChaosRig.Create("twoserve");

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Should_record_every_step_of_every_migration()
    {
        var environment = _rig.Environment(Migrations);
        string[] hosts = [.. Enumerable.Range(0, HostPairs * 2).Select(i => $"two-{i}")];
        using var worker = OrchestratorProcess.Start(environment,
            ["worker", "--driver", "sim", .. hosts.SelectMany(h => new[] { "--host", h }), "--real-time-factor", "0.02"]);
        using var first = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        using var second = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        var ids = Enumerable.Range(0, Migrations).Select(_ => Guid.NewGuid()).ToArray();
        await using (var client = await PlainAmqpClient.ConnectAsync(_rig.Settings.RabbitMq))
        {
            await _rig.WaitForQueues(client, hosts[^1]);
            // Both instances consume the saga queue before the first command, so both take a share of the work.
            await Eventually.Get(() => client.ConsumerCount(QueueNames.MigrationSaga), count => count >= 2, "both instances to consume the saga queue",
                TimeSpan.FromSeconds(90));
            for (var i = 0; i < Migrations; i++)
            {
                var pair = i % HostPairs;
                await ChaosRig.Start(client, ids[i], $"vm-two-{i}", hosts[2 * pair], hosts[2 * pair + 1], secondsPerPass: 2);
            }
        }

        // Midway: half the migrations are transferring or past it.
        await Eventually.Get(() => _rig.Summaries(ids), all => all.Count(s => s.Rounds >= 1 || s.IsTerminal) >= Migrations / 2,
            "half the migrations to be transferring", TimeSpan.FromSeconds(120));
        second.Kill();

        var summaries = await _rig.WaitForAllToEnd(ids, TimeSpan.FromSeconds(240), first, worker);
        summaries.Where(s => s.State != MigrationStates.Completed).Select(s => $"{s.Id} {s.State}: {s.Reason}").ShouldBeEmpty();
        summaries.Where(s => s.DowntimeMs is not > 0).Select(s => s.Id).ShouldBeEmpty("a completed migration without a downtime");
        foreach (var id in ids)
        {
            var events = await _rig.Events(id);
            var kinds = string.Join(", ", events.Select(e => e.GetType().Name));
            foreach (var step in new[] { typeof(PreflightPassed), typeof(TargetPrepared), typeof(StopAndCopyCompleted), typeof(SwitchoverCompleted),
                         typeof(SourceCleanedUp), typeof(MigrationCompleted) })
                events.Count(e => e.GetType() == step).ShouldBe(1, $"{step.Name} in {id}: {kinds}");
            var rounds = events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ToList();
            rounds.ShouldNotBeEmpty(kinds);
            rounds.ShouldBe(Enumerable.Range(1, rounds.Count), $"the rounds of {id} in the order they were recorded");
            events.OfType<MigrationCompleted>().Single().DowntimeMs.ShouldBeGreaterThan(0, kinds);
        }
    }
}
