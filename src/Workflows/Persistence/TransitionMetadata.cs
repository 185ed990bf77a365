using JasperFx.Events;
using Marten;
using MassTransit;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Workflows.Persistence;

/// <summary>
/// What every event of one transition carries besides its data: the correlation (the migration), the causation (the
/// message that caused the events), the principal who sent it when it said so acceptably, and the message's type.
/// </summary>
public sealed record TransitionMetadata(string? CorrelationId, string? CausationId, string? Principal, string MessageType)
{
    public static TransitionMetadata Of(ConsumeContext context)
    {
        // Any sender can put a header on the saga's queue: a principal that is not acceptable free text is not recorded.
        string? principal = null;
        if (context.Headers.TryGetHeader(MessageHeadersNames.Principal, out var header) && header?.ToString() is { Length: > 0 } who
            && InputRules.TextProblem("principal", who, InputRules.RequestedByMaxLength) is null)
            principal = who;
        return new TransitionMetadata((context.CorrelationId ?? context.ConversationId)?.ToString(), context.MessageId?.ToString(), principal,
            context.SupportedMessageTypes.FirstOrDefault() ?? "unknown");
    }

    /// <summary>On every event the session appends (the transition's own session).</summary>
    public void ApplyTo(IDocumentSession session)
    {
        session.CorrelationId = CorrelationId;
        session.CausationId = CausationId;
        if (Principal is not null)
            session.SetHeader(MessageHeadersNames.Principal, Principal);
        session.SetHeader(MessageHeadersNames.MessageType, MessageType);
    }

    /// <summary>On one event, whatever session appends it (one that other transitions share, in a group commit).</summary>
    public void ApplyTo(IEvent e)
    {
        e.CorrelationId = CorrelationId;
        e.CausationId = CausationId;
        if (Principal is not null)
            e.SetHeader(MessageHeadersNames.Principal, Principal);
        e.SetHeader(MessageHeadersNames.MessageType, MessageType);
    }
}
