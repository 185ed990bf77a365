using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Tests;

public sealed class When_a_batch_of_migrations_is_forecast
{
    const double MiB = 1024 * 1024;
    const long GiB = 1L << 30;
    static readonly DirtyBehaviour Idle = new(16L << 20, 1 * MiB, 0, 0, 5);

    static BatchForecast.Candidate Vm(string id, long memory, DirtyBehaviour? behaviour = null) =>
        new(id, "t-1", memory, behaviour ?? Idle, behaviour is null ? 0 : 3);

    [Fact]
    public void Should_run_two_at_a_time_on_an_evenly_split_link_under_the_fixed_limits()
    {
        var vms = Enumerable.Range(1, 4).Select(i => Vm($"vm-{i}", 4 * GiB)).ToList();

        var (plan, total) = BatchForecast.Plan(vms, EffectivePolicy.Defaults, linkBytesPerSecond: 1000 * MiB, maxRunning: 2);

        plan.Select(p => p.VmId).ShouldBe(["vm-1", "vm-2", "vm-3", "vm-4"]);
        plan.Select(p => p.Order).ShouldBe([1, 2, 3, 4]);
        plan.ShouldAllBe(p => Math.Abs(p.BandwidthBytesPerSecond - 500 * MiB) < 1, "two at a time split 1,000 MiB/s");
        plan[2].StartSeconds.ShouldBe(plan[0].EndSeconds - plan[0].DowntimeMs / 1000, 1e-6, "the third starts when the first's transfer ends");
        total.ShouldBe(2 * 4096 / 500.0, 0.2, "16 GiB over 1,000 MiB/s, and an idle guest adds next to nothing");
    }

    [Fact]
    public void Should_forecast_a_vm_without_history_at_its_upper_bound()
    {
        var (plan, _) = BatchForecast.Plan([new BatchForecast.Candidate("new", "t-1", 2 * GiB, null, 0)], EffectivePolicy.Defaults,
            linkBytesPerSecond: 4000 * MiB, maxRunning: 2);

        var only = plan.ShouldHaveSingleItem();
        only.BandwidthBytesPerSecond.ShouldBe(1024 * MiB, 1, "at most its policy's bandwidth");
        only.EndSeconds.ShouldBe(2.3, 1e-6, "2 GiB at 1,024 MiB/s, then the policy's 300 ms");
        only.DowntimeMs.ShouldBe(EffectivePolicy.Defaults.MaxDowntimeMs);
        only.EarlierMigrations.ShouldBe(0);
    }

    [Fact]
    public void Should_finish_sooner_link_aware_when_the_fixed_limit_leaves_the_link_idle()
    {
        var vms = Enumerable.Range(1, 6).Select(i => Vm($"vm-{i}", 4 * GiB, Idle)).ToList();

        var (_, fixedTotal) = BatchForecast.Plan(vms, EffectivePolicy.Defaults, linkBytesPerSecond: 3000 * MiB, maxRunning: 2);
        var (aware, awareTotal) = BatchForecast.Plan(vms, EffectivePolicy.Defaults, linkBytesPerSecond: 3000 * MiB, maxRunning: 5, linkAware: true);

        fixedTotal.ShouldBe(24 * 1024 / 2048.0, 0.2, "two at 1,024 MiB/s each leave a third of the link idle");
        awareTotal.ShouldBeLessThan(fixedTotal * 0.8);
        aware.Max(p => p.BandwidthBytesPerSecond).ShouldBeLessThanOrEqualTo(1024 * MiB + 1);
    }
}
