using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Tests;

/// <summary>
/// `orchestrator serve` is SIGKILLed five times while 20 migrations go through several pre-copy rounds each, and
/// started again each time; the worker goes on reporting meanwhile, so reports wait in the queue and unacknowledged
/// ones are redelivered. Every migration completes, and every stream records its rounds in the order the worker
/// produced them, each once.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_serve_is_killed_again_and_again : IAsyncLifetime
{
    const int Migrations = 20;
    const int Kills = 5;
    ChaosRig _rig = null!;

    public async ValueTask InitializeAsync() => _rig = await ChaosRig.Create("killagain");

    public async ValueTask DisposeAsync() => await _rig.DisposeAsync();

    [Fact]
    public async Task Should_record_every_streams_rounds_in_order()
    {
        var environment = _rig.Environment(Migrations);
        using var worker = OrchestratorProcess.Start(environment, "worker", "--driver", "sim", "--host", "again-a", "--host", "again-b",
            "--real-time-factor", "0.1");
        var serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
        // VMs of 4 or 8 GiB: a first pass of seconds. Three times the VM's dirty rate and a one-second downtime limit: a
        // few rounds each before the stop-and-copy.
        var vms = Enumerable.Range(0, 200).Select(i => SimVm.FromId($"vm-again-{i}")).Where(vm => vm.MemoryBytes >= 4L << 30).Take(Migrations).ToList();
        var ids = vms.Select(_ => Guid.NewGuid()).ToArray();
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(_rig.Settings.RabbitMq))
            {
                await _rig.WaitForQueues(client, "again-b");
                for (var i = 0; i < Migrations; i++)
                    await ChaosRig.Start(client, ids[i], vms[i].VmId, "again-a", "again-b",
                        bandwidthMiBps: (int)(3 * vms[i].DirtyRateBytesPerSecond >> 20), maxDowntimeMs: 1000);
            }

            // Each kill comes once the instance has recorded two more rounds than when it started: mid-transfer, with
            // rounds on their way.
            var kills = 0;
            for (var kill = 0; kill < Kills; kill++)
            {
                var before = Rounds(await _rig.Summaries(ids));
                var progress = await Eventually.Get(() => _rig.Summaries(ids), all => Rounds(all) >= before + 2 || (all.Count == Migrations && all.All(s => s.IsTerminal)),
                    $"two more rounds before kill {kill + 1}", TimeSpan.FromSeconds(90));
                if (progress.All(s => s.IsTerminal))
                    break;
                serve.Kill();
                serve.Dispose();
                kills++;
                serve = OrchestratorProcess.Start(environment, "serve", "--urls", "http://127.0.0.1:0");
            }

            // Most kills fell mid-transfer, or the test proved nothing.
            kills.ShouldBeGreaterThanOrEqualTo(3);
            var summaries = await _rig.WaitForAllToEnd(ids, TimeSpan.FromSeconds(180), serve, worker);
            summaries.Where(s => s.State != MigrationStates.Completed).Select(s => $"{s.VmId} {s.State}: {s.Reason}").ShouldBeEmpty();
            var totalRounds = 0;
            foreach (var id in ids)
            {
                var events = await _rig.Events(id);
                var rounds = events.OfType<PreCopyRoundCompleted>().Select(r => r.Round).ToList();
                rounds.ShouldBe(Enumerable.Range(1, rounds.Count), $"the rounds of {id} as recorded: {string.Join(", ", rounds)}");
                rounds.ShouldNotBeEmpty();
                totalRounds += rounds.Count;
            }
            // Several rounds per migration on the whole, or the order had nothing to be wrong about.
            totalRounds.ShouldBeGreaterThan(2 * Migrations);
        }
        finally
        {
            serve.Dispose();
        }
    }

    static int Rounds(IReadOnlyList<MigrationSummary> summaries) => summaries.Sum(s => s.Rounds);
}
