using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;
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

    // Reproductions of issue 14: each was accepted before names had a grammar.
    [Theory]
    [InlineData("host b")]
    [InlineData("hôst-b")]
    [InlineData("host-a/../x")]
    [InlineData("host-b#evil")]
    [InlineData("host-b?evil")]
    public void Should_refuse_a_target_host_that_is_not_a_name(string target) =>
        StartMigrationValidator.ValidateFields(Valid() with { TargetHost = target })["targetHost"]
            .ShouldHaveSingleItem().ShouldContain($"TargetHost '{target}' is not a valid name: {InputRules.NameRule}");

    [Fact]
    public void Should_refuse_a_300_character_host_name() =>
        StartMigrationValidator.ValidateFields(Valid() with { SourceHost = new string('h', 300) })["sourceHost"]
            .ShouldHaveSingleItem().ShouldContain("(300 characters) is not a valid name");

    [Fact]
    public void Should_refuse_a_target_that_is_the_source_with_a_trailing_space() =>
        StartMigrationValidator.ValidateFields(Valid() with { SourceHost = "host-a", TargetHost = "host-a " })["targetHost"]
            .ShouldHaveSingleItem().ShouldStartWith("TargetHost 'host-a ' is not a valid name");

    [Fact]
    public void Should_refuse_a_vm_id_longer_than_an_index_key_may_be() =>
        StartMigrationValidator.ValidateFields(Valid() with { VmId = new string('v', 3000) })["vmId"]
            .ShouldHaveSingleItem().ShouldContain("(3000 characters) is not a valid name");

    [Fact]
    public void Should_refuse_a_nul_in_the_vm_id() =>
        StartMigrationValidator.ValidateFields(Valid() with { VmId = "vm-\0" })["vmId"]
            .ShouldHaveSingleItem().ShouldStartWith("VmId 'vm-\\u0000' is not a valid name");

    [Fact]
    public void Should_refuse_a_200_kb_requested_by() =>
        StartMigrationValidator.ValidateFields(Valid() with { RequestedBy = new string('r', 200_000) })["requestedBy"]
            .ShouldHaveSingleItem().ShouldBe($"RequestedBy is 200000 characters long; at most {InputRules.RequestedByMaxLength} are allowed.");

    [Fact]
    public void Should_refuse_control_characters_in_labels() =>
        StartMigrationValidator.ValidateFields(Valid() with { VmLabels = new Dictionary<string, string> { ["tier"] = "a\u202Eb" } })["vmLabels"]
            .ShouldHaveSingleItem().ShouldContain("bidirectional mark");

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

    [Theory]
    [InlineData(-1, 0, "MultifdChannels is -1")]
    [InlineData(256, 0, "MultifdChannels is 256")]
    [InlineData(0, 3, "XbzrleCacheMiB is 3; it must be 0 (XBZRLE off) or a power of two")]
    [InlineData(0, -8, "XbzrleCacheMiB is -8")]
    public void Should_refuse_multifd_and_xbzrle_values_qemu_would_refuse(int channels, int cacheMiB, string reason) =>
        StartMigrationValidator.Validate(Valid() with { Policy = new MigrationPolicy(MultifdChannels: channels, XbzrleCacheMiB: cacheMiB) })
            .ShouldHaveSingleItem().ShouldContain(reason);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(255, 1024)]
    public void Should_accept_multifd_and_xbzrle_in_range(int channels, int cacheMiB) =>
        StartMigrationValidator.Validate(Valid() with { Policy = new MigrationPolicy(MultifdChannels: channels, XbzrleCacheMiB: cacheMiB) })
            .ShouldBeEmpty();

    [Fact]
    public void Should_report_every_problem_at_once() =>
        StartMigrationValidator.Validate(new StartMigration(Guid.Empty, "", "", "", "")).Count.ShouldBeGreaterThanOrEqualTo(4);

    [Fact]
    public void Should_fill_the_peers_defaults_into_the_effective_policy()
    {
        var policy = Policy.EffectivePolicy.From(new MigrationPolicy(MaxBandwidthMiBps: 100));

        policy.MaxBandwidthMiBps.ShouldBe(100);
        policy.MaxDowntimeMs.ShouldBe(300);
        policy.CompletionTimeoutSecondsPerGiB.ShouldBe(150);
        policy.ProgressTimeoutSeconds.ShouldBe(150);
        policy.StrategyFor(null).ShouldBe(MigrationStrategies.PreCopy);
        (policy with { AllowPostCopy = true }).StrategyFor(MigrationStrategies.Auto).ShouldBe(MigrationStrategies.Hybrid);
    }
}
