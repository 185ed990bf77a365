namespace Orchestrator.Workflows.Outbox;

/// <summary>Where a <see cref="DeadLetter"/> was set aside.</summary>
public static class DeadLetterSources
{
    /// <summary>An outgoing message of a committed transition that the broker would not take.</summary>
    public const string Outbox = "outbox";

    /// <summary>An incoming message whose transaction failed for good (not for an outage): it is also in its queue's _error queue.</summary>
    public const string Input = "input";
}
