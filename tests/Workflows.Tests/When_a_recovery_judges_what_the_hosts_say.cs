using Orchestrator.Contracts;
using Orchestrator.Workflows.Migration;

namespace Orchestrator.Workflows.Tests;

/// <summary>The recovery rule alone: every combination of answers has one verdict, and none leaves two running copies.</summary>
public sealed class When_a_recovery_judges_what_the_hosts_say
{
    [Theory]
    [InlineData(VmPresences.Running, VmPresences.Absent, false, RecoveryVerdicts.RollBack)]
    [InlineData(VmPresences.Running, VmPresences.Incoming, false, RecoveryVerdicts.RollBack)]
    [InlineData(VmPresences.Running, VmPresences.Unknown, false, RecoveryVerdicts.RollBack)]
    [InlineData(VmPresences.Stopped, VmPresences.Running, true, RecoveryVerdicts.Finish)]
    [InlineData(VmPresences.Unknown, VmPresences.Running, false, RecoveryVerdicts.Finish)]
    [InlineData(VmPresences.Running, VmPresences.Running, false, RecoveryVerdicts.RollBack)]
    [InlineData(VmPresences.Running, VmPresences.Running, true, RecoveryVerdicts.Finish)]
    [InlineData(VmPresences.Paused, VmPresences.Incoming, false, RecoveryVerdicts.RollBack)]
    [InlineData(VmPresences.Paused, VmPresences.Paused, true, RecoveryVerdicts.Lost)]
    [InlineData(VmPresences.Absent, VmPresences.Absent, false, RecoveryVerdicts.Lost)]
    [InlineData(VmPresences.Stopped, VmPresences.Absent, true, RecoveryVerdicts.Lost)]
    [InlineData(VmPresences.Paused, VmPresences.Unknown, false, RecoveryVerdicts.Unknown)]
    [InlineData(VmPresences.Unknown, VmPresences.Unknown, true, RecoveryVerdicts.Unknown)]
    public void Should_reach_the_verdict_the_answers_imply(string source, string target, bool ownershipMoved, string verdict)
    {
        var (actual, why) = MigrationRecovery.Judge(source, target, ownershipMoved, "host-a", "host-b");

        actual.ShouldBe(verdict);
        why.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Should_never_keep_two_running_copies()
    {
        string[] presences = [VmPresences.Running, VmPresences.Paused, VmPresences.Incoming, VmPresences.Stopped, VmPresences.Absent, VmPresences.Unknown];
        foreach (var source in presences)
        foreach (var target in presences)
        foreach (var moved in new[] { true, false })
        {
            var (verdict, _) = MigrationRecovery.Judge(source, target, moved, "host-a", "host-b");
            // Finishing cleans up the source; rolling back removes the target: either leaves one copy. Lost and unknown
            // change no host, so they may only be reached when no copy runs.
            if (source == VmPresences.Running || target == VmPresences.Running)
                verdict.ShouldBeOneOf(RecoveryVerdicts.Finish, RecoveryVerdicts.RollBack);
            if (target == VmPresences.Running && source != VmPresences.Running)
                verdict.ShouldBe(RecoveryVerdicts.Finish);
        }
    }
}
