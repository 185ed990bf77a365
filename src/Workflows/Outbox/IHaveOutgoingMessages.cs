namespace Orchestrator.Workflows.Outbox;

/// <summary>A saga whose transitions send and publish through the transactional outbox instead of the bus directly.</summary>
public interface IHaveOutgoingMessages
{
    IReadOnlyList<OutboxMessage> PendingMessages { get; }

    void ClearPendingMessages();
}
