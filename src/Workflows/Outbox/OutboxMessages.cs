using System.Text.Json;
using MassTransit;

namespace Orchestrator.Workflows.Outbox;

/// <summary>Turning messages into outbox rows and back, and delivering them.</summary>
public static class OutboxMessages
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public static OutboxMessage Create(Guid migrationId, string? queue, object message) => new()
    {
        Id = NewId.NextGuid(),
        MigrationId = migrationId,
        Queue = queue,
        MessageType = message.GetType().AssemblyQualifiedName!,
        Body = JsonSerializer.Serialize(message, message.GetType(), Json),
        CreatedAt = DateTimeOffset.UtcNow,
        Message = message,
    };

    /// <summary>Sends or publishes the stored message with its own id, correlated with its migration.</summary>
    public static async Task Deliver(OutboxMessage row, ISendEndpointProvider sender, IPublishEndpoint publisher, CancellationToken cancellationToken)
    {
        var type = row.Message?.GetType() ?? Type.GetType(row.MessageType, throwOnError: true)!;
        var message = row.Message ?? JsonSerializer.Deserialize(row.Body, type, Json)!;
        var pipe = Pipe.Execute<SendContext>(send =>
        {
            send.MessageId = row.Id;
            send.CorrelationId = row.MigrationId;
        });
        if (row.Queue is null)
            await publisher.Publish(message, type, pipe, cancellationToken);
        else
            await (await sender.GetSendEndpoint(new Uri($"queue:{row.Queue}"))).Send(message, type, pipe, cancellationToken);
    }
}
