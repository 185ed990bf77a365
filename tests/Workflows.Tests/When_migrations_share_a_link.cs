using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workers.Sim;
using Orchestrator.Workflows.Scheduling;

namespace Orchestrator.Workflows.Tests;

/// <summary>
/// Admission with the links scheduled: a migration starts its transfer only when every link it crosses has the bandwidth
/// its forecast needs beside the ones already on it, and its max-bandwidth is its share.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_migrations_share_a_link
{
    // A VM with no history needs its policy's maximum: 16 MiB/s. host-a's link carries one such, not two.
    static readonly MigrationPolicy Policy = new(MaxBandwidthMiBps: 16);

    static Task<InMemoryOrchestrator> Start() => InMemoryOrchestrator.StartAsync(
        sim =>
        {
            // 1 GiB at 16 MiB/s: 64 s of simulated transfer, about 1.3 s here.
            sim.RealTimeFactor = 0.02;
            foreach (var vm in new[] { "l-1", "l-2", "l-3" })
                sim.Vms[vm] = new SimVm(vm, 1L << 30, WorkingSetBytes: 8L << 20, DirtyRateBytesPerSecond: 1L << 20);
        },
        links: links =>
        {
            links.Schedule = true;
            links.HostMiBps["host-a"] = 20;
        });

    [Fact]
    public async Task Should_hold_back_the_one_the_link_cannot_carry_until_the_link_frees_and_let_others_run()
    {
        await using var orchestrator = await Start();
        var first = InMemoryOrchestrator.NewMigration("l-1", source: "host-a", target: "host-b", policy: Policy);
        var second = InMemoryOrchestrator.NewMigration("l-2", source: "host-a", target: "host-c", policy: Policy);
        var elsewhere = InMemoryOrchestrator.NewMigration("l-3", source: "host-c", target: "host-b", policy: Policy);

        await orchestrator.Start(first);
        await orchestrator.WaitFor(first.MigrationId, s => s.State == MigrationStates.PreCopying, "the first transfer");
        await orchestrator.Start(second);
        await orchestrator.Start(elsewhere);

        var waiting = await orchestrator.WaitFor(second.MigrationId, s => s.State == MigrationStates.Queued, "the second to wait for bandwidth");
        waiting!.QueueReason.ShouldNotBeNull().ShouldContain("waiting for bandwidth");
        waiting.QueueReason.ShouldContain("link of host-a (outbound)");
        foreach (var id in new[] { first.MigrationId, second.MigrationId, elsewhere.MigrationId })
            (await orchestrator.WaitForEnd(id))!.State.ShouldBe(MigrationStates.Completed);

        var firstEvents = await orchestrator.Events(first.MigrationId);
        var secondEvents = await orchestrator.Events(second.MigrationId);
        var elsewhereEvents = await orchestrator.Events(elsewhere.MigrationId);
        // The second's transfer began only after the first had left the link; the one on other links never waited.
        var firstDone = firstEvents.OfType<MigrationCompleted>().Single().Timestamp;
        secondEvents.OfType<MigrationQueued>().ShouldHaveSingleItem();
        secondEvents.OfType<MigrationAdmitted>().Count().ShouldBe(2);
        secondEvents.OfType<MigrationAdmitted>().Last().Timestamp.ShouldBeGreaterThanOrEqualTo(firstDone);
        elsewhereEvents.OfType<MigrationQueued>().ShouldBeEmpty();
        // Each transfer ran at its share: the whole of its policy's 16 MiB/s, said with the links it crossed.
        foreach (var events in new[] { firstEvents, secondEvents, elsewhereEvents })
            events.OfType<MigrationPolicyAdjusted>().Single(a => a.Action == "LinkShare").Reason.ShouldStartWith("max-bandwidth 16 MiB/s");
    }

    [Fact]
    public async Task Should_tell_a_running_transfer_its_new_share()
    {
        await using var orchestrator = await Start();
        var running = InMemoryOrchestrator.NewMigration("l-1", source: "host-a", target: "host-b", policy: Policy);
        await orchestrator.Start(running);
        await orchestrator.WaitFor(running.MigrationId, s => s.State == MigrationStates.PreCopying, "the transfer");

        // What admission sends a migration on a link another one just took (the first pass, 64 s simulated, runs on).
        await orchestrator.Send(QueueNames.MigrationSaga, new Admission.ShareLink(running.MigrationId, 4), running.MigrationId);

        (await orchestrator.WaitForEnd(running.MigrationId))!.State.ShouldBe(MigrationStates.Completed);
        var events = await orchestrator.Events(running.MigrationId);
        events.OfType<MigrationPolicyAdjusted>().Where(a => a.Action == "LinkShare").Select(a => a.Reason)
            .ShouldContain(reason => reason.StartsWith("max-bandwidth 4 MiB/s", StringComparison.Ordinal));
        // The source's worker was told: the passes after the first went at the new share.
        var rounds = events.OfType<PreCopyRoundCompleted>().ToList();
        rounds.Count.ShouldBeGreaterThan(1);
        rounds[0].BandwidthBytesPerSecond.ShouldBeGreaterThan(8L << 20);
        rounds.Skip(1).ShouldAllBe(r => r.BandwidthBytesPerSecond <= 5L << 20);
    }

    [Fact]
    public void Should_give_each_holder_its_need_and_an_even_part_of_the_spare_at_most_its_maximum()
    {
        const double MiB = 1 << 20;
        var links = new HostLinkOptions { DefaultMiBps = 1000 };
        links.HostMiBps["a"] = 100;
        Admission.AdmissionSlot Holder(string target, double need, double max) => new()
        {
            Id = Guid.NewGuid(), SourceHost = "a", TargetHost = target, NeededBytesPerSecond = need * MiB, MaxBytesPerSecond = max * MiB,
            HoldsLink = true, LinkKeys = [.. links.LinksOf("a", target).Select(l => l.Key)],
        };
        var small = Holder("b", need: 20, max: 64);
        var large = Holder("c", need: 40, max: 64);

        // 100 MiB/s out of a: 60 needed, 40 spare, 20 each.
        LinkShares.Of([small, large], links).Select(s => s.Share / MiB).ShouldBe([40.0, 60.0]);
        // Alone: all of the link, but no more than its policy allows.
        LinkShares.Of([small], links).Single().Share.ShouldBe(64 * MiB);
    }

    [Fact]
    public void Should_name_every_link_a_migration_crosses_groups_included()
    {
        var links = new HostLinkOptions { DefaultMiBps = 1000 };
        links.HostMiBps["a1"] = 500;
        links.Groups["rack-a"] = new LinkGroupOptions { MiBps = 2000, Hosts = ["a1", "a2"] };
        links.Groups["rack-b"] = new LinkGroupOptions { MiBps = 3000, Hosts = ["b1"] };

        links.LinksOf("a1", "a2").Select(l => (l.Key, l.BytesPerSecond / (1 << 20))).ShouldBe([("out:a1", 500.0), ("in:a2", 1000.0)]);
        links.LinksOf("a1", "b1").Select(l => (l.Key, l.BytesPerSecond / (1 << 20)))
            .ShouldBe([("out:a1", 500.0), ("in:b1", 1000.0), ("group-out:rack-a", 2000.0), ("group-in:rack-b", 3000.0)]);
        links.LinksOf("c1", "a2").Select(l => l.Key).ShouldBe(["out:c1", "in:a2", "group-in:rack-a"]);
    }
}
