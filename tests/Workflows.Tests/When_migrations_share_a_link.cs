using Orchestrator.Contracts;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Tests;

public sealed class When_migrations_share_a_link
{
    const double MiB = 1024 * 1024;
    const double Link = 3000 * MiB;

    static LinkDemand Demand(string id, double needMiB, int priority = 0, long arrival = 0) =>
        new(id, needMiB * MiB, 1024 * MiB, priority, Arrival: arrival);

    [Fact]
    public void Should_start_migrations_in_order_while_the_link_has_what_each_needs()
    {
        var (start, bandwidth) = LinkScheduler.Plan([], [Demand("a", 1000, arrival: 0), Demand("b", 1500, arrival: 1), Demand("c", 900, arrival: 2),
            Demand("d", 10, arrival: 3)], Link, maxRunning: 5);

        start.ShouldBe(["a", "b"], "c needs 900 MiB/s where 500 are left, and d, smaller, does not overtake it");
        bandwidth.Values.Sum().ShouldBeLessThanOrEqualTo(Link + 1);
        bandwidth["a"].ShouldBeGreaterThanOrEqualTo(1000 * MiB);
        bandwidth["b"].ShouldBeGreaterThanOrEqualTo(1000 * MiB, "its need is 1500 but its policy allows 1024");
    }

    [Fact]
    public void Should_give_the_spare_to_the_neediest_first_up_to_its_maximum()
    {
        var (_, bandwidth) = LinkScheduler.Plan([Demand("quiet", 20), Demand("busy", 600)], [], 1500 * MiB, maxRunning: 5);

        bandwidth["busy"].ShouldBe(1024 * MiB, 1, "the busy guest saves the most memory sent again per extra byte");
        bandwidth["quiet"].ShouldBe(476 * MiB, 1, "the rest of the link is not left idle");
    }

    [Fact]
    public void Should_put_priority_before_arrival_and_keep_the_fixed_cap()
    {
        var (start, _) = LinkScheduler.Plan([Demand("running", 10)], [Demand("early", 10, arrival: 0), Demand("urgent", 10, priority: 5, arrival: 9)],
            Link, maxRunning: 2);

        start.ShouldBe(["urgent"]);
    }

    [Fact]
    public void Should_start_the_first_even_when_it_needs_more_than_the_link()
    {
        var (start, bandwidth) = LinkScheduler.Plan([], [new LinkDemand("huge", 5000 * MiB, 8000 * MiB)], Link, maxRunning: 5);

        start.ShouldBe(["huge"]);
        bandwidth["huge"].ShouldBe(Link, 1);
    }

    [Fact]
    public void Should_need_little_for_a_quiet_guest_and_everything_for_one_that_cannot_converge()
    {
        var policy = EffectivePolicy.Defaults;
        var quiet = new DirtyBehaviour(64L << 20, 10 * MiB, 0, 0, 5);
        var hot = new DirtyBehaviour(2L << 30, 3000 * MiB, 0, 0, 5);

        var quietNeed = LinkScheduler.NeededBandwidth(quiet, 4L << 30, policy, MigrationStrategies.PreCopy, 1024 * MiB);
        var hotNeed = LinkScheduler.NeededBandwidth(hot, 4L << 30, policy, MigrationStrategies.PreCopy, 1024 * MiB);

        quietNeed.ShouldBeLessThan(100 * MiB);
        MigrationForecaster.Forecast(quiet, 4L << 30, quietNeed / LinkScheduler.Headroom, policy with { AllowAutoConverge = false },
            MigrationStrategies.PreCopy).Outcome.ShouldBe(ForecastOutcomes.Converges);
        hotNeed.ShouldBe(1024 * MiB);
    }
}
