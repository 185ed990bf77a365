using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

public sealed class When_named_policies_select_a_migration
{
    static readonly MigrationPolicyOptions Options = new()
    {
        Policies =
        {
            new NamedMigrationPolicy { Name = "all-qemu", Hypervisor = HypervisorKinds.Qemu, Policy = new MigrationPolicy(MaxDowntimeMs: 500) },
            new NamedMigrationPolicy
            {
                Name = "databases",
                Hypervisor = HypervisorKinds.Qemu,
                VmLabels = { ["workload"] = "database" },
                Policy = new MigrationPolicy(MaxDowntimeMs: 100, AllowPostCopy: false, AllowAutoConverge: false),
            },
            new NamedMigrationPolicy { Name = "urgent", MinPriority = 50, Policy = new MigrationPolicy(MaxBandwidthMiBps: 4096) },
        },
    };

    static StartMigration Command(string hypervisor, IReadOnlyDictionary<string, string>? labels = null, MigrationPolicy? policy = null) =>
        new(Guid.NewGuid(), "vm-1", "a", "b", hypervisor, Policy: policy, VmLabels: labels);

    [Fact]
    public void Should_pick_the_most_specific_policy_that_matches() =>
        Options.For(Command(HypervisorKinds.Qemu, new Dictionary<string, string> { ["workload"] = "database" }))!.Name.ShouldBe("databases");

    [Fact]
    public void Should_fall_back_to_a_broader_policy_when_the_labels_differ() =>
        Options.For(Command(HypervisorKinds.Qemu, new Dictionary<string, string> { ["workload"] = "web" }))!.Name.ShouldBe("all-qemu");

    [Fact]
    public void Should_select_by_priority() =>
        Options.For(Command(HypervisorKinds.Sim, policy: new MigrationPolicy(Priority: 80)))!.Name.ShouldBe("urgent");

    [Fact]
    public void Should_select_nothing_when_no_selector_matches() => Options.For(Command(HypervisorKinds.Sim)).ShouldBeNull();

    [Fact]
    public void Should_let_the_request_override_the_policy_and_the_policy_override_the_defaults()
    {
        var named = Options.For(Command(HypervisorKinds.Qemu, new Dictionary<string, string> { ["workload"] = "database" }))!;

        var effective = EffectivePolicy.From(new MigrationPolicy(MaxDowntimeMs: 50), named.Policy);

        effective.MaxDowntimeMs.ShouldBe(50);
        effective.AllowAutoConverge.ShouldBe(false);
        effective.CompletionTimeoutSecondsPerGiB.ShouldBe(EffectivePolicy.Defaults.CompletionTimeoutSecondsPerGiB);
    }

    [Fact]
    public void Should_merge_multifd_and_xbzrle_like_every_other_member()
    {
        var named = new MigrationPolicy(MultifdChannels: 4, XbzrleCacheMiB: 64);

        EffectivePolicy.From(null).ShouldSatisfyAllConditions(
            p => p.MultifdChannels.ShouldBe(0), p => p.XbzrleCacheMiB.ShouldBe(0));
        EffectivePolicy.From(null, named).ShouldSatisfyAllConditions(
            p => p.MultifdChannels.ShouldBe(4), p => p.XbzrleCacheMiB.ShouldBe(64));
        // A request may turn off what its named policy turns on.
        EffectivePolicy.From(new MigrationPolicy(MultifdChannels: 0, XbzrleCacheMiB: 16), named).ShouldSatisfyAllConditions(
            p => p.MultifdChannels.ShouldBe(0), p => p.XbzrleCacheMiB.ShouldBe(16));
    }

    [Fact]
    public void Should_require_encryption_by_default_on_qemu_only_and_let_a_policy_or_request_say_otherwise()
    {
        EffectivePolicy.From(null, null, HypervisorKinds.Qemu).RequireEncryption.ShouldBeTrue();
        EffectivePolicy.From(null, null, HypervisorKinds.Sim).RequireEncryption.ShouldBeFalse();
        EffectivePolicy.From(null, new MigrationPolicy(RequireEncryption: false), HypervisorKinds.Qemu).RequireEncryption.ShouldBeFalse();
        EffectivePolicy.From(new MigrationPolicy(RequireEncryption: true), new MigrationPolicy(RequireEncryption: false), HypervisorKinds.Qemu)
            .ShouldSatisfyAllConditions(p => p.RequireEncryption.ShouldBeTrue(), p => p.ToRecorded().RequireEncryption.ShouldBe(true));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Should_record_the_policy_and_its_values_in_force_at_admission()
    {
        await using var orchestrator = await InMemoryOrchestrator.StartAsync(policies: options =>
            options.Policies.Add(new NamedMigrationPolicy
            {
                Name = "batch",
                VmLabels = { ["tier"] = "batch" },
                Policy = new MigrationPolicy(MaxDowntimeMs: 1000, MaxBandwidthMiBps: 2048),
            }));
        var command = InMemoryOrchestrator.NewMigration("vm-batch") with { VmLabels = new Dictionary<string, string> { ["tier"] = "batch" } };

        await orchestrator.Start(command);
        var summary = await orchestrator.WaitForEnd(command.MigrationId);

        summary!.PolicyName.ShouldBe("batch");
        var requested = (await orchestrator.Events(command.MigrationId)).OfType<MigrationRequested>().Single();
        requested.PolicyName.ShouldBe("batch");
        requested.Policy.MaxDowntimeMs.ShouldBe(1000);
        requested.Policy.MaxBandwidthMiBps.ShouldBe(2048);
        requested.Policy.ProgressTimeoutSeconds.ShouldBe(EffectivePolicy.Defaults.ProgressTimeoutSeconds);
    }
}
