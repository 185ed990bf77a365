using Marten;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Qemu;

namespace Orchestrator.Tests.Qemu;

/// <summary>
/// The recovery matrix on real QEMU: a migration is broken at a phase, an operator sends <see cref="RecoverMigration"/>,
/// and the migration ends where the hypervisors' own truth (QEMU's query-status and query-migrate, asked by the workers)
/// leads. Each test checks the evidence on record (one <see cref="VmLocated"/> per host, the verdict), that no host runs a
/// second copy, that the guest is intact wherever it runs, and that the migration did not stay in flight.
/// </summary>
[Trait("Category", "Qemu")]
[Collection(QemuCollection.Name)]
public sealed class When_a_qemu_migration_is_recovered(QemuOrchestrator orchestrator)
{
    const string A = QemuOrchestrator.Source;
    const string B = QemuOrchestrator.Target;

    [Fact]
    public async Task Should_confirm_the_vm_lost_after_the_source_died_in_post_copy_and_run_it_nowhere()
    {
        const string vm = "vm-rec-lost";
        try
        {
            await orchestrator.Lab.StartVm(A, vm, mib: 24, rate: 256);
            await using var observer = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(A, vm), TimeSpan.FromSeconds(10));
            var killed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            observer.EventReceived += e =>
            {
                if (e.Name == "MIGRATION" && e.Data.GetProperty("status").GetString() == "postcopy-active")
                {
                    orchestrator.Lab.Kill(A, vm);
                    killed.TrySetResult("postcopy-active");
                }
            };
            var id = await orchestrator.Migrate(vm, new MigrationPolicy(MaxDowntimeMs: 300, MaxBandwidthMiBps: 16, AllowPostCopy: true),
                MigrationStrategies.PostCopy);
            (await killed.Task.WaitAsync(TimeSpan.FromSeconds(60))).ShouldBe("postcopy-active");
            (await orchestrator.WaitForEnd(id)).State.ShouldBe(MigrationStates.Failed);

            await orchestrator.Recover(id);
            var summary = await Recovered(id);

            summary.State.ShouldBe(MigrationStates.Failed, summary.Reason);
            summary.RunningOn.ShouldBeNull();
            summary.Reason.ShouldNotBeNull().ShouldContain("VM lost");
            var (located, reconciled) = await Evidence(id);
            located[A].Presence.ShouldBe(VmPresences.Absent, located[A].Detail);
            located[B].Presence.ShouldNotBe(VmPresences.Running, located[B].Detail);
            reconciled.RecoveredFrom.ShouldBe(MigrationStates.Failed);
            reconciled.Verdict.ShouldBe(RecoveryVerdicts.Lost, reconciled.Evidence);
            (await RunsOn(vm)).ShouldBeEmpty("no host runs the VM: its memory was split between them");
            (await orchestrator.Events(id)).OfType<MigrationCompleted>().ShouldBeEmpty();
            await NoneInFlight(vm);
        }
        finally
        {
            KillBoth(vm);
        }
    }

    [Fact]
    public async Task Should_roll_back_a_healthy_pre_copy_to_the_source_it_runs_on_with_the_destination_removed()
    {
        const string vm = "vm-rec-precopy";
        try
        {
            // 24 MiB rewritten at 256 MiB/s against 8 MiB/s: each pass takes seconds and never converges, and the downtime
            // cap is far below what a stop-and-copy needs, so the copy goes on, healthy, until the recovery.
            await orchestrator.Lab.StartVm(A, vm, mib: 24, rate: 256);
            var id = await orchestrator.Migrate(vm, new MigrationPolicy(MaxDowntimeMs: 100, MaxBandwidthMiBps: 8,
                CompletionTimeoutSecondsPerGiB: 1000, AllowPostCopy: false, AllowAutoConverge: false));
            await orchestrator.WaitFor(id, s => s.Rounds >= 1 || s.IsTerminal, "a first pre-copy round");
            (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PreCopying);
            (await orchestrator.Lab.RunState(B, vm)).ShouldBe("inmigrate");

            await orchestrator.Recover(id);
            var summary = await Recovered(id);

            summary.State.ShouldBe(MigrationStates.RolledBack, summary.Reason);
            summary.RunningOn.ShouldBe(A);
            var (located, reconciled) = await Evidence(id);
            located[A].Presence.ShouldBe(VmPresences.Running, located[A].Detail);
            located[A].Detail.ShouldNotBeNull().ShouldContain("query-migrate active");
            located[B].Presence.ShouldBe(VmPresences.Incoming, located[B].Detail);
            reconciled.RecoveredFrom.ShouldBe(MigrationStates.PreCopying);
            reconciled.Verdict.ShouldBe(RecoveryVerdicts.RollBack, reconciled.Evidence);
            (await RunsOn(vm)).ShouldBe([A]);
            (await orchestrator.Lab.RunsOn(A, vm)).IntegrityErrors.ShouldBe(0u);
            orchestrator.Lab.Hosts.IsAlive(B, vm).ShouldBeFalse("the destination QEMU is removed");
            await NoneInFlight(vm);
        }
        finally
        {
            KillBoth(vm);
        }
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_roll_back_to_the_source_when_the_destination_died_while_the_worker_was_down()
    {
        // A worker process of its own for two hosts of their own, so that it can be SIGKILLed: while it is down the
        // destination QEMU dies and nobody tells the saga, which still believes the pre-copy runs.
        const string source = "qemu-e", target = "qemu-f", vm = "vm-rec-dst-died";
        var worker = StartWorker(source, target);
        try
        {
            await using (var client = await PlainAmqpClient.ConnectAsync(orchestrator.Settings.RabbitMq))
                await Eventually.Get(() => client.QueueExists(QueueNames.Worker(HypervisorKinds.Qemu, source)), up => up,
                    "the worker process to start", TimeSpan.FromSeconds(60));
            await orchestrator.Lab.StartVm(source, vm, mib: 24, rate: 256);
            var id = await orchestrator.Migrate(vm, source, target, new MigrationPolicy(MaxDowntimeMs: 100, MaxBandwidthMiBps: 8,
                CompletionTimeoutSecondsPerGiB: 1000, AllowPostCopy: false, AllowAutoConverge: false));
            await orchestrator.WaitFor(id, s => s.Rounds >= 1 || s.IsTerminal, "a first pre-copy round");

            worker.Kill();
            orchestrator.Lab.Kill(target, vm);
            await Eventually.Get(() => orchestrator.Lab.RunState(source, vm), state => state == "running", "the source to keep running");
            (await orchestrator.Summary(id))!.State.ShouldBe(MigrationStates.PreCopying, "nobody told the saga");
            // The saga is Reconciling at a new epoch before the worker comes back, and waits up to the fixture's 20 s for
            // the answers. The worker redelivers the superseded transfer too: fenced when the new epoch reached it first,
            // else it finds no destination and its failure is recorded as history; either way the truth decides.
            await orchestrator.Recover(id);
            await orchestrator.WaitFor(id, s => s.Recoveries >= 1, "the recovery to start");
            worker.Dispose();
            worker = StartWorker(source, target);
            var summary = await Recovered(id);

            summary.State.ShouldBe(MigrationStates.RolledBack, $"{summary.Reason}\n{worker.Output}");
            summary.RunningOn.ShouldBe(source);
            var (located, reconciled) = await Evidence(id, source, target);
            located[source].Presence.ShouldBe(VmPresences.Running, located[source].Detail);
            located[target].Presence.ShouldBe(VmPresences.Absent, located[target].Detail);
            reconciled.RecoveredFrom.ShouldBe(MigrationStates.PreCopying);
            reconciled.Verdict.ShouldBe(RecoveryVerdicts.RollBack, reconciled.Evidence);
            (await RunsOn(vm, source, target)).ShouldBe([source]);
            (await orchestrator.Lab.RunsOn(source, vm)).IntegrityErrors.ShouldBe(0u);
            orchestrator.Lab.Hosts.IsAlive(target, vm).ShouldBeFalse();
            await NoneInFlight(vm);
        }
        finally
        {
            worker.Dispose();
            orchestrator.Lab.Kill(source, vm);
            orchestrator.Lab.Kill(target, vm);
        }
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Should_decide_nothing_while_the_hosts_cannot_answer_and_roll_back_when_recovered_again_once_they_do()
    {
        const string source = "qemu-e", target = "qemu-f", vm = "vm-rec-unknown";
        var worker = StartWorker(source, target);
        try
        {
            await using var client = await PlainAmqpClient.ConnectAsync(orchestrator.Settings.RabbitMq);
            await Eventually.Get(() => client.QueueExists(QueueNames.Worker(HypervisorKinds.Qemu, source)), up => up,
                "the worker process to start", TimeSpan.FromSeconds(60));
            await orchestrator.Lab.StartVm(source, vm, mib: 24, rate: 256);
            var id = await orchestrator.Migrate(vm, source, target, new MigrationPolicy(MaxDowntimeMs: 100, MaxBandwidthMiBps: 8,
                CompletionTimeoutSecondsPerGiB: 1000, AllowPostCopy: false, AllowAutoConverge: false));
            await orchestrator.WaitFor(id, s => s.Rounds >= 1 || s.IsTerminal, "a first pre-copy round");

            // The hosts' worker is down: the truth query gets no answer within the fixture's 20 s.
            worker.Kill();
            await orchestrator.Recover(id);
            var undecided = await Recovered(id);

            undecided.State.ShouldBe(MigrationStates.Failed, undecided.Reason);
            undecided.RecoveryVerdict.ShouldBe(RecoveryVerdicts.Unknown);
            var first = (await orchestrator.Events(id)).OfType<MigrationReconciled>().ShouldHaveSingleItem();
            (first.SourcePresence, first.TargetPresence).ShouldBe((VmPresences.Unknown, VmPresences.Unknown));
            first.Evidence.ShouldContain("did not answer");
            // Nothing was changed on the hosts: the copy QEMU runs on its own goes on.
            (await RunsOn(vm, source, target)).ShouldBe([source]);
            (await orchestrator.Lab.RunState(target, vm)).ShouldBe("inmigrate");

            worker.Dispose();
            worker = StartWorker(source, target);
            // Once the worker is back the operator recovers again. The restarted worker also answers the first recovery's
            // queries late; VmLocated carries no epoch, so such a late answer may count for the second recovery too (it
            // tells the same truth here, milliseconds apart).
            await Eventually.Get(() => Task.FromResult(worker.Output), output => output.Contains("Bus started"),
                "the restarted worker to consume", TimeSpan.FromSeconds(60));
            await orchestrator.Recover(id);
            var summary = await Eventually.Get(() => orchestrator.Summary(id), s => s is { Recoveries: >= 2, IsTerminal: true }
                && s.RecoveryVerdict != RecoveryVerdicts.Unknown, "the second recovery to end", TimeSpan.FromSeconds(60));
            TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));

            summary!.State.ShouldBe(MigrationStates.RolledBack, $"{summary.Reason}\n{worker.Output}");
            summary.RunningOn.ShouldBe(source);
            var events = await orchestrator.Events(id);
            var verdicts = events.OfType<MigrationReconciled>().ToList();
            verdicts.Count.ShouldBe(2);
            var second = verdicts[1];
            second.RecoveredFrom.ShouldBe(MigrationStates.Failed);
            (second.SourcePresence, second.TargetPresence).ShouldBe((VmPresences.Running, VmPresences.Incoming), second.Evidence);
            second.Verdict.ShouldBe(RecoveryVerdicts.RollBack);
            var answers = events.Skip(events.ToList().FindLastIndex(e => e is MigrationRecoveryStarted)).OfType<VmLocated>().ToList();
            answers.Select(a => a.Host).Distinct().Order().ShouldBe(new[] { source, target }.Order());
            (await RunsOn(vm, source, target)).ShouldBe([source]);
            (await orchestrator.Lab.RunsOn(source, vm)).IntegrityErrors.ShouldBe(0u);
            orchestrator.Lab.Hosts.IsAlive(target, vm).ShouldBeFalse("the destination QEMU is removed");
            await NoneInFlight(vm);
        }
        finally
        {
            worker.Dispose();
            orchestrator.Lab.Kill(source, vm);
            orchestrator.Lab.Kill(target, vm);
        }
    }

    OrchestratorProcess StartWorker(string source, string target) => OrchestratorProcess.Start(new Dictionary<string, string>
    {
        ["ConnectionStrings__Postgres"] = orchestrator.Settings.Postgres,
        ["ConnectionStrings__RabbitMq"] = orchestrator.Settings.RabbitMq,
        ["Worker__HeartbeatInterval"] = "00:00:01",
        ["Qemu__PollInterval"] = "00:00:00.100",
        ["Qemu__TlsDirectory"] = orchestrator.TlsFor(source, target),
    }, "worker", "--driver", "qemu", "--host", source, "--host", target, "--qemu-root", orchestrator.Lab.Root);

    /// <summary>Waits until the recovery has a verdict and the migration has ended again.</summary>
    async Task<MigrationSummary> Recovered(Guid id)
    {
        var summary = (await orchestrator.WaitFor(id, s => s is { Recoveries: >= 1, RecoveryVerdict: not null, IsTerminal: true },
            $"migration {id} to be recovered and end"))!;
        TestContext.Current.TestOutputHelper?.WriteLine(await orchestrator.Timeline(id));
        return summary;
    }

    /// <summary>The hosts' answers after the recovery started, one per host, and the single verdict drawn from them.</summary>
    async Task<(IReadOnlyDictionary<string, VmLocated> Located, MigrationReconciled Reconciled)> Evidence(Guid id,
        string source = A, string target = B)
    {
        var events = await orchestrator.Events(id);
        var recovery = events.ToList().FindIndex(e => e is MigrationRecoveryStarted);
        recovery.ShouldBeGreaterThanOrEqualTo(0, "the recovery is on record");
        var located = events.Skip(recovery).OfType<VmLocated>().ToList();
        located.Select(l => l.Host).Order().ShouldBe(new[] { source, target }.Order());
        return (located.ToDictionary(l => l.Host), events.OfType<MigrationReconciled>().ShouldHaveSingleItem());
    }

    /// <summary>
    /// The hosts whose QEMU really runs the VM, asked over the observers' monitor: query-status <c>running</c>, and not a
    /// post-copy destination that lost its source (<c>postcopy-paused</c> looks running but waits for pages for ever).
    /// </summary>
    async Task<IReadOnlyList<string>> RunsOn(string vm, string source = A, string target = B)
    {
        var running = new List<string>();
        foreach (var host in new[] { source, target })
        {
            if (await orchestrator.Lab.RunState(host, vm) != "running")
                continue;
            await using var qmp = await QmpClient.ConnectAsync(orchestrator.Lab.Hosts.MonitorSocket(host, vm), TimeSpan.FromSeconds(10));
            var migration = await qmp.ExecuteAsync("query-migrate");
            var status = migration.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status is not ("postcopy-paused" or "postcopy-recover"))
                running.Add(host);
        }
        return running;
    }

    /// <summary>Every migration of the VM has ended: none is left in flight.</summary>
    async Task NoneInFlight(string vm)
    {
        await using var session = orchestrator.Store.QuerySession();
        var migrations = await session.Query<MigrationSummary>().Where(m => m.VmId == vm).ToListAsync();
        migrations.ShouldNotBeEmpty();
        migrations.ShouldAllBe(m => m.IsTerminal, string.Join(", ", migrations.Select(m => $"{m.Id}: {m.State}")));
    }

    void KillBoth(string vm)
    {
        orchestrator.Lab.Kill(A, vm);
        orchestrator.Lab.Kill(B, vm);
    }
}
