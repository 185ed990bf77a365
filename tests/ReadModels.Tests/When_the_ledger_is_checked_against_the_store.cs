using Orchestrator.ReadModels.Audit.Ledger;

namespace Orchestrator.ReadModels.Tests;

/// <summary>The ledger's check on its own, over entries and events made here (no database): what each kind of gap means.</summary>
public sealed class When_the_ledger_is_checked_against_the_store
{
    static readonly Guid Stream = Guid.Parse("6f1c4c2e-8f43-4c43-9a52-0a0f4b1e2c11");

    static LedgerEntry Event(long sequence, long version) => new(-1, sequence, Stream, version, $"hash-{sequence}");

    [Fact]
    public void Should_accept_a_late_commit_within_the_window_not_yet_ledgered()
    {
        var head = AuditLedger.LateCommitWindow + 10;
        var entries = new List<LedgerEntry> { Event(head, 1) with { Leaf = 0 } };
        var events = new Dictionary<long, LedgerEntry> { [head] = Event(head, 1), [head - 5] = Event(head - 5, 2) };

        LedgerVerifier.Verify(entries, events, [], null).Intact.ShouldBeTrue();
    }

    [Fact]
    public void Should_name_an_event_inserted_far_below_the_ledgers_head()
    {
        var head = AuditLedger.LateCommitWindow + 10;
        var entries = new List<LedgerEntry> { Event(head, 1) with { Leaf = 0 } };
        var events = new Dictionary<long, LedgerEntry> { [head] = Event(head, 1), [7] = Event(7, 2) };

        var verdict = LedgerVerifier.Verify(entries, events, [], null);

        verdict.Intact.ShouldBeFalse();
        (verdict.Sequence, verdict.Version).ShouldBe((7L, 2L));
        verdict.Problem.ShouldNotBeNull().ShouldContain("never ledgered: inserted afterwards");
    }

    [Fact]
    public void Should_name_a_gap_in_the_leaves()
    {
        var entries = new List<LedgerEntry> { Event(1, 1) with { Leaf = 0 }, Event(3, 3) with { Leaf = 2 } };
        var events = new Dictionary<long, LedgerEntry> { [1] = Event(1, 1), [3] = Event(3, 3) };

        LedgerVerifier.Verify(entries, events, [], null).Problem.ShouldNotBeNull().ShouldContain("ledger entry 1 is missing");
    }
}
