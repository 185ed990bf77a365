using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Orchestrator.Tests;

/// <summary>A service that does not use MassTransit: plain RabbitMQ.Client, plain JSON.</summary>
public sealed class PlainAmqpClient : IAsyncDisposable
{
    readonly IConnection _connection;
    readonly IChannel _channel;

    PlainAmqpClient(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<PlainAmqpClient> ConnectAsync(string? address = null)
    {
        // amqps:// too, verifying the broker as the orchestrator does.
        var connection = await Hosting.RabbitMqAddress.Factory(address ?? TestServices.RabbitMq, "tests").CreateConnectionAsync();
        return new PlainAmqpClient(connection, await connection.CreateChannelAsync());
    }

    public async Task Publish(string exchange, string body, string? contentType = "application/json")
    {
        var properties = new BasicProperties { ContentType = contentType, DeliveryMode = DeliveryModes.Persistent };
        await _channel.BasicPublishAsync(exchange, routingKey: string.Empty, mandatory: false, properties, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>Puts a body straight into a queue (the default exchange), which holds even before its exchange is bound.</summary>
    public async Task PublishToQueue(string queue, string body)
    {
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        await _channel.BasicPublishAsync(string.Empty, routingKey: queue, mandatory: false, properties, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>Binds a private queue to a fanout exchange and collects the bodies that arrive on it.</summary>
    public async Task<List<string>> Subscribe(string exchange)
    {
        var received = new List<string>();
        await _channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = await _channel.QueueDeclareAsync(queue: string.Empty, durable: false, exclusive: true, autoDelete: true);
        await _channel.QueueBindAsync(queue.QueueName, exchange, routingKey: string.Empty);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            lock (received)
                received.Add(Encoding.UTF8.GetString(delivery.Body.Span));
            return Task.CompletedTask;
        };
        await _channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return received;
    }

    /// <summary>
    /// Binds a private queue to the topic exchange <paramref name="exchange"/> with <paramref name="bindingKey"/>, without
    /// declaring the exchange (binding fails when it does not exist), and collects what arrives, with its properties.
    /// </summary>
    public async Task<List<Delivered>> Follow(string exchange, string bindingKey = "#")
    {
        var received = new List<Delivered>();
        var queue = await _channel.QueueDeclareAsync(queue: string.Empty, durable: false, exclusive: true, autoDelete: true);
        await _channel.QueueBindAsync(queue.QueueName, exchange, bindingKey);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            var headers = (delivery.BasicProperties.Headers ?? new Dictionary<string, object?>())
                .ToDictionary(h => h.Key, h => h.Value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : h.Value);
            lock (received)
                received.Add(new Delivered(delivery.RoutingKey, delivery.BasicProperties.ContentType, delivery.BasicProperties.Type,
                    delivery.BasicProperties.MessageId, headers, Encoding.UTF8.GetString(delivery.Body.Span)));
            return Task.CompletedTask;
        };
        await _channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return received;
    }

    public sealed record Delivered(string RoutingKey, string? ContentType, string? Type, string? MessageId, IReadOnlyDictionary<string, object?> Headers, string Body);

    /// <summary>A durable queue of the caller's name bound to <paramref name="exchange"/>: what it collects survives a broker restart.</summary>
    public async Task DeclareDurableQueue(string queue, string exchange, string bindingKey)
    {
        await using var channel = await _connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, bindingKey);
    }

    /// <summary>Whether <paramref name="queue"/> exists (its consumer declared it).</summary>
    public async Task<bool> QueueExists(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return false;
        }
    }

    /// <summary>Whether the exchange <paramref name="exchange"/> exists.</summary>
    public async Task<bool> ExchangeExists(string exchange)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            await channel.ExchangeDeclarePassiveAsync(exchange);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return false;
        }
    }

    /// <summary>How many messages wait in <paramref name="queue"/>; 0 when it does not exist.</summary>
    public async Task<uint> MessageCount(string queue)
    {
        // A passive declare of a missing queue closes its channel: use one of its own.
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Declares <paramref name="queue"/> as a transient (not durable) queue: any durable declaration of it is refused.</summary>
    public async Task DeclareTransientQueue(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
    }

    /// <summary>How many consumers <paramref name="queue"/> has; 0 when it does not exist.</summary>
    public async Task<uint> ConsumerCount(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Takes every message now in <paramref name="queue"/> (an _error queue), each with the reason MassTransit gave
    /// (its <c>MT-Fault-Message</c> header). None while the queue does not exist yet: MassTransit declares an _error
    /// queue with its first fault.
    /// </summary>
    public async Task<List<(string Body, string? Fault)>> Take(string queue)
    {
        var taken = new List<(string Body, string? Fault)>();
        if (!await QueueExists(queue))
            return taken;
        await using var channel = await _connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            var fault = message.BasicProperties.Headers?.TryGetValue("MT-Fault-Message", out var value) == true && value is byte[] bytes
                ? Encoding.UTF8.GetString(bytes)
                : null;
            taken.Add((Encoding.UTF8.GetString(message.Body.Span), fault));
        }
        return taken;
    }

    public async Task DeleteQueue(string queue)
    {
        await using var channel = await _connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
