using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using RabbitMQ.Client;

namespace Orchestrator.Events;

/// <summary>
/// Writes integration events to <see cref="PublicContract.EventsExchange"/> (a durable topic exchange) as CloudEvents 1.0
/// in structured mode: the body is the whole CloudEvent (<c>application/cloudevents+json</c>) with the event as
/// <c>data</c> (plain camelCase JSON), routed by the event's name (<c>migration.completed</c>), with the CloudEvents type
/// and the schema version also in the AMQP properties. Its own connection, publisher confirms on: a publish returns
/// once RabbitMQ has the event (persistent), and throws when it does not, so the caller can try again.
/// </summary>
public sealed class CloudEventPublisher(string rabbitMq, ILogger<CloudEventPublisher> logger) : IAsyncDisposable
{
    public const string ContentType = "application/cloudevents+json";

    static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    readonly SemaphoreSlim _gate = new(1, 1);
    IConnection? _connection;
    IChannel? _channel;

    /// <summary>Connects (once) and declares the exchange: a service may bind to it before anything has happened.</summary>
    public async Task DeclareAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await Channel(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task PublishAsync(PublicEvent @event, object message, Guid id, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(Envelope(@event, message, id, time), Web);
        var properties = new BasicProperties
        {
            ContentType = ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            MessageId = id.ToString(),
            Type = @event.CloudEventType,
            AppId = "orchestrator",
            Timestamp = new AmqpTimestamp(time.ToUnixTimeSeconds()),
            Headers = new Dictionary<string, object?>
            {
                ["cloudEvents_specversion"] = "1.0",
                ["cloudEvents_type"] = @event.CloudEventType,
                ["cloudEvents_id"] = id.ToString(),
                ["schemaVersion"] = @event.SchemaVersion,
            },
        };
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await Channel(cancellationToken);
            await channel.BasicPublishAsync(PublicContract.EventsExchange, @event.Name, mandatory: false, properties, body, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A broken channel is not used again: the next attempt opens a new one.
            logger.LogWarning(e, "An event could not be written to {Exchange}; it is tried again", PublicContract.EventsExchange);
            await Reset();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The CloudEvent of an event: its id is the bus message's (a redelivered event keeps it), its subject the migration or drain.</summary>
    public static JsonObject Envelope(PublicEvent @event, object message, Guid id, DateTimeOffset time)
    {
        var data = JsonSerializer.SerializeToNode(message, @event.Type, Web)!.AsObject();
        var subject = data["migrationId"] ?? data["drainId"];
        var envelope = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = id.ToString(),
            ["source"] = PublicContract.EventSource,
            ["type"] = @event.CloudEventType,
            ["time"] = data["timestamp"]?.DeepClone() ?? JsonValue.Create(time),
            ["datacontenttype"] = "application/json",
            ["dataschema"] = $"urn:orchestrator:schema:{@event.Type.Name}:v{@event.SchemaVersion}",
        };
        if (subject is not null)
            envelope["subject"] = subject.DeepClone();
        envelope["data"] = data;
        return envelope;
    }

    async Task<IChannel> Channel(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true })
            return _channel;
        await Reset();
        var factory = Hosting.RabbitMqAddress.Factory(rabbitMq, "orchestrator cloud events");
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        await _channel.ExchangeDeclareAsync(PublicContract.EventsExchange, ExchangeType.Topic, durable: true, autoDelete: false,
            cancellationToken: cancellationToken);
        return _channel;
    }

    async Task Reset()
    {
        try
        {
            if (_channel is not null)
                await _channel.DisposeAsync();
            if (_connection is not null)
                await _connection.DisposeAsync();
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "Closing a broken connection to RabbitMQ failed");
        }
        _channel = null;
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        await Reset();
        _gate.Dispose();
    }
}
