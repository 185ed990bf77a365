using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Workers.Consumers;
using Orchestrator.Workers.Sim;

namespace Orchestrator.Workers.Tests;

public sealed class When_a_worker_checks_a_migration_before_it_starts
{
    const long GiB = 1L << 30;
    readonly SimulatedFleet _fleet = new();
    readonly SimOptions _options = new() { HostMemoryBytes = 16 * GiB };

    SimDriver Driver => new(_fleet, Options.Create(_options));

    static CheckMigration Check(string vm, string hypervisor = HypervisorKinds.Sim, int maxDowntimeMs = 300, int bandwidthMiBps = 1024,
        bool postCopy = false, bool autoConverge = false) =>
        new(Guid.NewGuid(), 1, vm, "host-a", "host-b", hypervisor, maxDowntimeMs, bandwidthMiBps, postCopy, autoConverge);

    [Fact]
    public async Task Should_pass_a_vm_that_converges_and_predict_its_downtime()
    {
        _options.Vms["calm"] = new SimVm("calm", 4 * GiB, WorkingSetBytes: 32L << 20, DirtyRateBytesPerSecond: 20L << 20);

        var verdict = await Driver.PreflightAsync(Check("calm"), CancellationToken.None);

        verdict.Passed.ShouldBeTrue(verdict.Problem);
        verdict.PredictedDowntimeMs.ShouldNotBeNull().ShouldBeLessThanOrEqualTo(300);
        verdict.MemoryBytes.ShouldBe(4 * GiB);
    }

    [Fact]
    public async Task Should_refuse_a_hypervisor_it_does_not_serve() =>
        (await Driver.PreflightAsync(Check("any", hypervisor: HypervisorKinds.Qemu), CancellationToken.None)).Problem.ShouldNotBeNull().ShouldContain("'qemu'");

    [Fact]
    public async Task Should_refuse_a_vm_that_does_not_run_on_the_source()
    {
        _fleet.Place("elsewhere", "host-z");

        (await Driver.PreflightAsync(Check("elsewhere"), CancellationToken.None)).Problem.ShouldNotBeNull().ShouldContain("runs on 'host-z'");
    }

    [Fact]
    public async Task Should_refuse_a_target_without_room_for_the_vm()
    {
        _options.Vms["big"] = new SimVm("big", 12 * GiB, 32L << 20, 1L << 20);
        _options.Vms["resident"] = new SimVm("resident", 8 * GiB, 32L << 20, 1L << 20);
        _fleet.Place("resident", "host-b");

        (await Driver.PreflightAsync(Check("big"), CancellationToken.None)).Problem.ShouldNotBeNull().ShouldContain("has 8 GiB free");
    }

    [Fact]
    public async Task Should_count_the_memory_promised_to_a_prepared_destination_as_taken()
    {
        _options.Vms["inbound"] = new SimVm("inbound", 12 * GiB, 32L << 20, 1L << 20);
        _options.Vms["late"] = new SimVm("late", 8 * GiB, 32L << 20, 1L << 20);
        await Driver.PrepareTargetAsync(new PrepareTarget(Guid.NewGuid(), 1, "inbound", "host-a", "host-b", HypervisorKinds.Sim), CancellationToken.None);

        (await Driver.PreflightAsync(Check("late"), CancellationToken.None)).Problem.ShouldBe(
            "Target 'host-b' has 4 GiB free (12 GiB of its memory promised to 1 inbound migration); VM 'late' needs 8 GiB.");
    }

    [Fact]
    public async Task Should_refuse_a_vm_predicted_not_to_converge_unless_post_copy_or_auto_converge_may_help()
    {
        _options.Vms["hot"] = new SimVm("hot", 4 * GiB, WorkingSetBytes: GiB, DirtyRateBytesPerSecond: 900L << 20);

        var refused = await Driver.PreflightAsync(Check("hot", bandwidthMiBps: 256), CancellationToken.None);
        var withPostCopy = await Driver.PreflightAsync(Check("hot", bandwidthMiBps: 256, postCopy: true), CancellationToken.None);
        var withAutoConverge = await Driver.PreflightAsync(Check("hot", bandwidthMiBps: 256, autoConverge: true), CancellationToken.None);

        refused.Problem.ShouldNotBeNull().ShouldContain("Predicted downtime");
        refused.PredictedDowntimeMs.ShouldNotBeNull().ShouldBeGreaterThan(300);
        withPostCopy.Passed.ShouldBeTrue();
        withAutoConverge.Passed.ShouldBeTrue();
    }

    [Fact]
    public void Should_fence_off_commands_of_a_superseded_epoch()
    {
        var fence = new EpochFence(Options.Create(new WorkerOptions { StateDirectory = null }));
        var migration = Guid.NewGuid();

        fence.Admit(migration, 1).ShouldBeTrue();
        fence.Admit(migration, 2).ShouldBeTrue();
        fence.Admit(migration, 1).ShouldBeFalse();
        fence.Admit(migration, 2).ShouldBeTrue();
        fence.Admit(Guid.NewGuid(), 1).ShouldBeTrue();
    }

    [Fact]
    public void Should_still_fence_off_a_superseded_epoch_after_the_worker_restarts()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"fence-{Guid.NewGuid():N}");
        try
        {
            var options = Options.Create(new WorkerOptions { StateDirectory = directory });
            var migration = Guid.NewGuid();
            var before = new EpochFence(options);
            before.Admit(migration, 1).ShouldBeTrue();
            before.Admit(migration, 2).ShouldBeTrue();

            // A new process: nothing in memory, the epochs on disk.
            var after = new EpochFence(options);
            after.Admit(migration, 1).ShouldBeFalse();
            after.Admit(migration, 2).ShouldBeTrue();
            after.Admit(migration, 3).ShouldBeTrue();
            new EpochFence(options).Admit(migration, 2).ShouldBeFalse();
            new EpochFence(options).Admit(Guid.NewGuid(), 1).ShouldBeTrue();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
