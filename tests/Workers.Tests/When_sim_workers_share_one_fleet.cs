using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Drivers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

/// <summary>
/// Sim drivers on <see cref="SharedSimFleet"/>s of their own over one PostgreSQL schema, as two worker processes have
/// them: one fleet, whoever acts on it and however often a worker starts again.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_sim_workers_share_one_fleet : IAsyncDisposable
{
    const long GiB = 1L << 30;
    readonly TestSchema _schema = TestSchema.Create("simfleet");
    readonly SimOptions _options = new() { HostMemoryBytes = 32 * GiB };
    readonly List<SharedSimFleetTables> _tables = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var tables in _tables)
            await tables.DisposeAsync();
        await _schema.DisposeAsync();
    }

    /// <summary>A worker process's view: a fleet with a connection pool of its own.</summary>
    SimDriver Worker()
    {
        var tables = new SharedSimFleetTables(TestServices.Postgres, _schema.Name, _options.Placements);
        _tables.Add(tables);
        return new SimDriver(new SharedSimFleet(tables, TimeSpan.FromSeconds(5), NullLogger<SharedSimFleet>.Instance), Options.Create(_options));
    }

    SimVm Vm(string id, long memory, long workingSet = 32L << 20, long dirtyRate = 1L << 20) =>
        _options.Vms[id] = new SimVm(id, memory, workingSet, dirtyRate);

    static CheckMigration Check(Guid id, string vm, string target = "host-b") =>
        new(id, 1, vm, "host-a", target, HypervisorKinds.Sim, 300, 1024, false, false);

    static PrepareTarget Prepare(Guid id, string vm, string target = "host-b") => new(id, 1, vm, "host-a", target, HypervisorKinds.Sim);

    static BeginTransfer Transfer(Guid id, string vm) => new(id, 1, vm, "host-a", "host-b", MigrationStrategies.PreCopy, 300, 1024);

    [Fact]
    public async Task Should_transfer_to_a_destination_another_worker_prepared_and_keep_the_vm_where_it_went_across_a_restart()
    {
        var (source, target) = (Worker(), Worker());
        var id = Guid.NewGuid();
        var observer = new RecordingObserver();

        (await source.PreflightAsync(Check(id, "vm-shared"), CancellationToken.None)).Passed.ShouldBeTrue();
        await target.PrepareTargetAsync(Prepare(id, "vm-shared"), CancellationToken.None);
        await source.MigrateAsync(Transfer(id, "vm-shared"), observer, CancellationToken.None);

        observer.RunningOn.ShouldBe("host-b");
        (await target.WhereIsAsync("vm-shared", CancellationToken.None)).ShouldBe("host-b");
        var restarted = Worker();
        (await restarted.WhereIsAsync("vm-shared", CancellationToken.None)).ShouldBe("host-b");
        var hostB = await restarted.DescribeHostAsync("host-b", CancellationToken.None);
        hostB.Vms.Select(vm => vm.VmId).ShouldBe(["vm-shared"]);
        // The destination's promise ended with the switchover: the VM's memory is counted once, as resident.
        hostB.FreeBytes.ShouldBe(_options.HostMemoryBytes - _options.Vm("vm-shared").MemoryBytes);
        (await restarted.InspectAsync("vm-shared", "host-a", CancellationToken.None)).Presence.ShouldBe(VmPresences.Absent);
    }

    [Fact]
    public async Task Should_refuse_at_pre_flight_a_target_whose_memory_is_promised_to_an_inbound_migration_until_it_is_rolled_back()
    {
        var (source, target) = (Worker(), Worker());
        Vm("vm-inbound", 24 * GiB);
        Vm("vm-late", 16 * GiB);
        var inbound = Guid.NewGuid();
        await target.PrepareTargetAsync(Prepare(inbound, "vm-inbound"), CancellationToken.None);

        var refused = await source.PreflightAsync(Check(Guid.NewGuid(), "vm-late"), CancellationToken.None);
        await target.DestroyTargetAsync(new DestroyTarget(inbound, 1, "vm-inbound", "host-b"), CancellationToken.None);
        var passed = await source.PreflightAsync(Check(Guid.NewGuid(), "vm-late"), CancellationToken.None);

        refused.Problem.ShouldBe("Target 'host-b' has 8 GiB free (24 GiB of its memory promised to 1 inbound migration); VM 'vm-late' needs 16 GiB.");
        passed.Passed.ShouldBeTrue(passed.Problem);
        (await source.DescribeHostAsync("host-b", CancellationToken.None)).FreeBytes.ShouldBe(32 * GiB);
    }

    [Fact]
    public async Task Should_promise_no_memory_twice_when_two_workers_prepare_one_target_at_once()
    {
        var workers = new[] { Worker(), Worker() };
        var vms = Enumerable.Range(0, 16).Select(i => Vm($"vm-rush-{i}", 4 * GiB).VmId).ToArray();

        var prepared = await Task.WhenAll(vms.Select(async (vm, i) =>
        {
            try
            {
                await workers[i % 2].PrepareTargetAsync(Prepare(Guid.NewGuid(), vm), CancellationToken.None);
                return true;
            }
            catch (HypervisorStepException refused) when (refused.Message.Contains("GiB free", StringComparison.Ordinal))
            {
                return false;
            }
        }));

        prepared.Count(ok => ok).ShouldBe(8);
        (await workers[0].DescribeHostAsync("host-b", CancellationToken.None)).FreeBytes.ShouldBe(0);
    }

    [Fact]
    public async Task Should_resume_a_transfer_that_starts_again_after_the_last_pass_it_recorded()
    {
        // Rewrites 2 GiB at 700 MiB/s against a 1 GiB/s link: several passes before the rest fits 300 ms.
        Vm("vm-resumed", 4 * GiB, workingSet: 2 * GiB, dirtyRate: 700L << 20);
        var id = Guid.NewGuid();
        await Worker().PrepareTargetAsync(Prepare(id, "vm-resumed"), CancellationToken.None);
        using var crash = new CancellationTokenSource();
        var first = new CrashingObserver(atRound: 3, crash);

        await Should.ThrowAsync<OperationCanceledException>(() => Worker().MigrateAsync(Transfer(id, "vm-resumed"), first, crash.Token));
        var second = new RecordingObserver();
        await Worker().MigrateAsync(Transfer(id, "vm-resumed"), second, CancellationToken.None);

        first.Rounds.ShouldBe([1, 2, 3]);
        // Pass 3 was reported but not recorded when the worker died: it is sent again, then the transfer goes on.
        second.Passes.Select(pass => pass.Round).ShouldBe(Enumerable.Range(3, second.Passes.Count));
        second.Passes.Count.ShouldBeGreaterThan(1);
        second.RunningOn.ShouldBe("host-b");
    }

    /// <summary>A worker that dies right after reporting pass <paramref name="atRound"/>.</summary>
    sealed class CrashingObserver(int atRound, CancellationTokenSource crash) : ITransferObserver
    {
        public List<int> Rounds { get; } = [];

        public Task DiskMirrorStarted(int disks, long totalBytes) => Task.CompletedTask;

        public Task DiskMirrorProgress(long bytesDone, long bytesRemaining) => Task.CompletedTask;

        public Task DiskMirrorReady(long totalBytes, double elapsedMs) => Task.CompletedTask;

        public Task RoundCompleted(PreCopyPass pass)
        {
            Rounds.Add(pass.Round);
            if (pass.Round == atRound)
                crash.Cancel();
            return Task.CompletedTask;
        }

        public Task StoppedAndCopied(double downtimeMs, long bytesTransferred) => throw new InvalidOperationException("The transfer should have died first.");

        public Task SwitchedOver(string runningOn, long totalBytesTransferred) => throw new InvalidOperationException("The transfer should have died first.");

        public Task PostCopyStarted(string runningOn, long bytesRemaining) => Task.CompletedTask;

        public Task PostCopyRecovered(string runningOn, int attempts, double pausedMs, string detail) => Task.CompletedTask;

        public Task PostCopyCompleted(string runningOn, long totalBytesTransferred, long pageFaults) => Task.CompletedTask;
    }
}
