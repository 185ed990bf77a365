using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.Events;

/// <summary>
/// Republishes one integration event, as the bus delivered it to <see cref="CloudEventRelayDefinition{T}.Queue"/>, to
/// <see cref="PublicContract.EventsExchange"/> as a CloudEvent. The event reached the bus through the saga's outbox (or
/// was published by a consumer or the audit checkpoints); it leaves the relay's durable queue only once RabbitMQ has
/// confirmed the CloudEvent, so a broker that blinks delays it, never loses it. Its id is the bus message's id.
/// </summary>
public sealed class CloudEventRelay<T>(CloudEventPublisher publisher) : IConsumer<T>
    where T : class
{
    static readonly PublicEvent Event = PublicContract.Event(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is no integration event");

    public Task Consume(ConsumeContext<T> context) =>
        publisher.PublishAsync(Event, context.Message, context.MessageId ?? NewId.NextGuid(), context.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : DateTimeOffset.UtcNow,
            context.CancellationToken);
}
