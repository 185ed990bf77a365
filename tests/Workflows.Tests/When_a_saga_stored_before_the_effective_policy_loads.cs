using System.Text;
using System.Text.Json.Nodes;
using Marten;
using Orchestrator.Contracts;
using Orchestrator.Hosting;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Policy;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// The saga is a Marten document and MigrationRequested an event that stays in the store for good: the saga now keeps an
/// <see cref="EffectivePolicy"/> where it kept the wire's <see cref="MigrationPolicy"/>, and both must still read what
/// the earlier code wrote. The JSON below is what that code stored (Marten's serializer, as the orchestrator configures it).
/// </summary>
public sealed class When_a_saga_stored_before_the_effective_policy_loads
{
    const string StoredBeforeTheEffectivePolicy = """
        {"CorrelationId":"3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f","CurrentState":"PreCopying","VmId":"vm-1","SourceHost":"host-a",
        "TargetHost":"host-b","Hypervisor":"sim","Strategy":"hybrid","Policy":{"MaxDowntimeMs":200,"MaxBandwidthMiBps":1024,
        "CompletionTimeoutSecondsPerGiB":150,"ProgressTimeoutSeconds":150,"AllowPostCopy":true,"AllowAutoConverge":true,"Priority":0,
        "MultifdChannels":4,"XbzrleCacheMiB":0},"RequestedBy":null,"PolicyName":"fast","RequestedAt":"0001-01-01T00:00:00+00:00","Epoch":1,
        "RunningOn":"host-a","DowntimeMs":0,"Reason":null,"RejectionCode":null,"Queued":false,"CancelRequested":false,"CancelRequestedBy":null,
        "StepTimeoutToken":null,"CompletionTimeoutToken":null,"StepAttempts":0,"MemoryBytes":0,"VmDefinition":null,"IncomingUri":null,
        "Convergence":null,"RecoveringFrom":null,"RecoveryRequestedBy":null,"SourcePresence":null,"SourceEvidence":null,"TargetPresence":null,
        "TargetEvidence":null,"Probing":false,"Verdict":null}
        """;

    /// <summary>A saga of the multifd/XBZRLE-less days: its policy has neither member.</summary>
    const string StoredBeforeMultifd = """
        {"CorrelationId":"3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f","CurrentState":"Preparing","VmId":"vm-1","SourceHost":"host-a",
        "TargetHost":"host-b","Hypervisor":"sim","Strategy":"precopy","Policy":{"MaxDowntimeMs":300,"MaxBandwidthMiBps":1024,
        "CompletionTimeoutSecondsPerGiB":150,"ProgressTimeoutSeconds":150,"AllowPostCopy":false,"AllowAutoConverge":true,"Priority":7},
        "Epoch":1}
        """;

    static readonly ISerializer Serializer = MartenSerializer();

    static ISerializer MartenSerializer()
    {
        var options = new StoreOptions();
        Roles.Configure(options, new OrchestratorSettings(OrchestratorSettings.DefaultPostgres, OrchestratorSettings.DefaultRabbitMq, "unused"));
        return options.Serializer();
    }

    /// <summary>
    /// The policy as the earlier code wrote it: the members added since are each checked for the value an old saga means,
    /// then left out (requireEncryption: false, as every migration stream before it was plain TCP; no disk mirror deadline,
    /// 0, as no disk moved then, or <paramref name="diskMirrorDeadlineSeconds"/> for a saga of today).
    /// </summary>
    static JsonNode WithoutLaterMembers(JsonNode? policy, int diskMirrorDeadlineSeconds = 0)
    {
        var copy = policy!.DeepClone().AsObject();
        copy["RequireEncryption"]?.GetValue<bool>().ShouldBeFalse();
        copy.Remove("RequireEncryption");
        copy["DiskMirrorDeadlineSeconds"]?.GetValue<int>().ShouldBe(diskMirrorDeadlineSeconds);
        copy.Remove("DiskMirrorDeadlineSeconds");
        return copy;
    }

    static MigrationState Load(string json) => Serializer.FromJson<MigrationState>(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Should_load_the_policy_it_held_as_the_effective_policy()
    {
        var saga = Load(StoredBeforeTheEffectivePolicy);

        saga.Policy.ShouldBe(new EffectivePolicy(MaxDowntimeMs: 200, MaxBandwidthMiBps: 1024, CompletionTimeoutSecondsPerGiB: 150,
            ProgressTimeoutSeconds: 150, AllowPostCopy: true, AllowAutoConverge: true, Priority: 0, MultifdChannels: 4, XbzrleCacheMiB: 0));
        saga.PolicyName.ShouldBe("fast");
        saga.Strategy.ShouldBe(MigrationStrategies.Hybrid);
    }

    [Fact]
    public void Should_load_a_policy_without_multifd_and_xbzrle_with_both_off()
    {
        var saga = Load(StoredBeforeMultifd);

        saga.Policy.ShouldBe(EffectivePolicy.Defaults with { Priority = 7, DiskMirrorDeadlineSeconds = 0 });
    }

    [Fact]
    public void Should_store_the_policy_in_the_same_shape_it_had()
    {
        var stored = JsonNode.Parse(StoredBeforeTheEffectivePolicy)!["Policy"]!;

        var saga = Load(StoredBeforeTheEffectivePolicy);

        JsonNode.DeepEquals(WithoutLaterMembers(JsonNode.Parse(Serializer.ToJson(saga))!["Policy"]), stored).ShouldBeTrue();
    }

    [Fact]
    public void Should_record_every_member_of_the_policy_in_force_in_MigrationRequested_as_before()
    {
        var saga = new MigrationState { CorrelationId = Guid.NewGuid() };
        saga.Accept(new StartMigration(saga.CorrelationId, "vm-1", "host-a", "host-b", HypervisorKinds.Sim,
            Policy: new MigrationPolicy(MaxDowntimeMs: 200, AllowPostCopy: true, MultifdChannels: 4)), new MigrationPolicyOptions());

        var recorded = JsonNode.Parse(Serializer.ToJson(saga.Requested()))!["Policy"];

        JsonNode.DeepEquals(WithoutLaterMembers(recorded, EffectivePolicy.Defaults.DiskMirrorDeadlineSeconds), JsonNode.Parse(StoredBeforeTheEffectivePolicy)!["Policy"]).ShouldBeTrue(recorded!.ToJsonString());
    }
}
