using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// A named policy is held to the rules of a StartMigration's policy: a value QEMU would refuse stops the orchestrator at
/// start-up, with the policy and the member named, instead of failing every migration the policy selects.
/// </summary>
public sealed class When_named_policies_are_validated
{
    static MigrationPolicyOptions Named(string name, MigrationPolicy policy) => new()
    {
        Policies = { new NamedMigrationPolicy { Name = "fine", Policy = new MigrationPolicy(MultifdChannels: 4, XbzrleCacheMiB: 64) },
            new NamedMigrationPolicy { Name = name, Hypervisor = HypervisorKinds.Qemu, Policy = policy } },
    };

    [Theory]
    [InlineData("Bulk Moves")]
    [InlineData("bulk ")]
    [InlineData("bulk#1")]
    public void Should_refuse_a_policy_name_that_is_not_a_name(string name) =>
        MigrationPolicyOptionsValidator.Problems(Named(name, new MigrationPolicy())).ShouldHaveSingleItem()
            .ShouldBe($"MigrationPolicies:Policies:1: Name '{name}' is not a valid name: {Intake.InputRules.NameRule}.");

    [Fact]
    public void Should_refuse_a_label_value_with_a_control_character()
    {
        var options = Named("batch", new MigrationPolicy());
        options.Policies[1].VmLabels["tier"] = "batch\u0007";

        MigrationPolicyOptionsValidator.Problems(options).ShouldHaveSingleItem()
            .ShouldStartWith("Named policy 'batch' (MigrationPolicies:Policies:1): VmLabels[tier] holds a control character (U+0007)");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(256)]
    public void Should_name_the_policy_and_the_member_when_multifd_channels_are_out_of_range(int channels)
    {
        var problems = MigrationPolicyOptionsValidator.Problems(Named("bulk", new MigrationPolicy(MultifdChannels: channels))).ToList();

        problems.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            p => p.ShouldContain("policy 'bulk' (MigrationPolicies:Policies:1)"),
            p => p.ShouldContain("member MultifdChannels"),
            p => p.ShouldContain($"is {channels}; it must be between 0 (multifd off) and 255"));
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(48)]
    public void Should_name_the_policy_and_the_member_when_the_xbzrle_cache_is_negative_or_not_a_power_of_two(int cache)
    {
        var problems = MigrationPolicyOptionsValidator.Problems(Named("deltas", new MigrationPolicy(XbzrleCacheMiB: cache))).ToList();

        problems.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            p => p.ShouldContain("policy 'deltas'"),
            p => p.ShouldContain("member XbzrleCacheMiB"),
            p => p.ShouldContain($"is {cache}; it must be 0 (XBZRLE off) or a power of two"));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(255, 1024)]
    public void Should_accept_the_values_a_start_migration_may_carry(int channels, int cache) =>
        MigrationPolicyOptionsValidator.Problems(Named("edges", new MigrationPolicy(MultifdChannels: channels, XbzrleCacheMiB: cache)))
            .ShouldBeEmpty();

    [Fact]
    public void Should_hold_every_other_member_to_the_same_rules_and_require_a_name()
    {
        var options = Named("zero", new MigrationPolicy(MaxDowntimeMs: 0, Priority: 5000));
        options.Policies.Add(new NamedMigrationPolicy { Policy = new MigrationPolicy(MaxBandwidthMiBps: 100) });

        var problems = MigrationPolicyOptionsValidator.Problems(options).ToList();

        problems.Count.ShouldBe(3, string.Join("\n", problems));
        problems.ShouldContain(p => p.Contains("policy 'zero'") && p.Contains("member MaxDowntimeMs"));
        problems.ShouldContain(p => p.Contains("policy 'zero'") && p.Contains("member Priority"));
        problems.ShouldContain(p => p.StartsWith("MigrationPolicies:Policies:2 has no Name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_stop_the_orchestrator_at_start_up_with_the_policy_and_the_member_in_the_reason()
    {
        await using var schema = TestSchema.Create("policy");
        var settings = new OrchestratorSettings(TestServices.Postgres, TestServices.RabbitMq, schema.Name);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            InMemory = true,
            ConfigurePolicies = policies => policies.Policies.Add(new NamedMigrationPolicy
            {
                Name = "bulk",
                Policy = new MigrationPolicy(MultifdChannels: 300),
            }),
        });
        using var host = builder.Build();

        var refused = await Should.ThrowAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        refused.Message.ShouldContain("policy 'bulk'");
        refused.Message.ShouldContain("member MultifdChannels");
        refused.Message.ShouldContain("Policy.MultifdChannels is 300");
    }
}
