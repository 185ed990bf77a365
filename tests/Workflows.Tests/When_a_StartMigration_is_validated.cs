using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

public sealed class When_a_StartMigration_is_validated
{
    static StartMigration Valid() => new(Guid.NewGuid(), "vm-1", "host-a", "host-b", HypervisorKinds.Sim);

    [Fact]
    public void Should_accept_a_complete_command() => StartMigrationValidator.Validate(Valid()).ShouldBeEmpty();

    [Fact]
    public void Should_name_a_missing_vm() =>
        StartMigrationValidator.Validate(Valid() with { VmId = " " }).ShouldContain(p => p.Contains("VmId"));

    [Fact]
    public void Should_refuse_equal_source_and_target() =>
        StartMigrationValidator.Validate(Valid() with { TargetHost = "HOST-A" }).ShouldContain(p => p.Contains("two different hosts"));

    [Fact]
    public void Should_list_the_known_hypervisors_for_an_unknown_one() =>
        StartMigrationValidator.Validate(Valid() with { Hypervisor = "vmware" })
            .ShouldContain(p => p.Contains("'vmware' is unknown") && p.Contains(HypervisorKinds.Sim));

    [Fact]
    public void Should_refuse_an_unknown_strategy() =>
        StartMigrationValidator.Validate(Valid() with { Strategy = "teleport" }).ShouldContain(p => p.Contains("Strategy"));

    [Fact]
    public void Should_refuse_out_of_range_policy_values()
    {
        var problems = StartMigrationValidator.Validate(Valid() with { Policy = new MigrationPolicy(MaxDowntimeMs: 0, Priority: 5000) });

        problems.ShouldContain(p => p.Contains("MaxDowntimeMs"));
        problems.ShouldContain(p => p.Contains("Priority"));
    }

    [Fact]
    public void Should_report_every_problem_at_once() =>
        StartMigrationValidator.Validate(new StartMigration(Guid.Empty, "", "", "", "")).Count.ShouldBeGreaterThanOrEqualTo(4);

    [Fact]
    public void Should_fill_the_peers_defaults_into_the_effective_policy()
    {
        var policy = MigrationPolicyDefaults.Effective(new MigrationPolicy(MaxBandwidthMiBps: 100));

        policy.MaxBandwidthMiBps.ShouldBe(100);
        policy.MaxDowntimeMs.ShouldBe(300);
        policy.CompletionTimeoutSecondsPerGiB.ShouldBe(150);
        policy.ProgressTimeoutSeconds.ShouldBe(150);
        MigrationPolicyDefaults.EffectiveStrategy(null, policy).ShouldBe(MigrationStrategies.PreCopy);
        MigrationPolicyDefaults.EffectiveStrategy(MigrationStrategies.Auto, policy with { AllowPostCopy = true }).ShouldBe(MigrationStrategies.Hybrid);
    }
}
