using System.Diagnostics;
using Orchestrator.Hosting;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Orchestrator.Bench;

/// <summary>
/// What one message costs at the broker's floor: persistent messages on a durable classic queue (the kind MassTransit
/// declares for the saga's endpoint), each published with a publisher confirm awaited, consumed with a manual ack at
/// MassTransit's default prefetch for this machine. Plain RabbitMQ.Client, no MassTransit: the CPU of every process per
/// message, the <c>C_msg</c> of a transition's floor.
/// </summary>
public static class MessageBaseline
{
    /// <summary>Messages per second, and the CPU of every process (this one, PostgreSQL, RabbitMQ) per message.</summary>
    public sealed record Result(double MessagesPerSecond, double CpuMsPerMessage, int BodyBytes, ushort Prefetch);

    /// <summary>About the size of the saga's own messages: a MassTransit JSON envelope around a worker report.</summary>
    const int BodyBytes = 1024;

    public static async Task<Result> Measure(string rabbit, int publishers, TimeSpan duration)
    {
        // MassTransit's RabbitMQ default, which the saga's endpoint keeps: twice the cores, at most 16.
        var prefetch = (ushort)Math.Min(Environment.ProcessorCount * 2, 16);
        var queue = $"bench.message-baseline.{Guid.NewGuid():N}";
        var body = new byte[BodyBytes];
        Array.Fill(body, (byte)'x');
        await using var connection = await RabbitMqAddress.Factory(rabbit, "bench-message-baseline").CreateConnectionAsync();
        await using var consuming = await connection.CreateChannelAsync();
        await consuming.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        try
        {
            await consuming.BasicQosAsync(0, prefetch, global: false);
            var channels = new List<IChannel>();
            for (var i = 0; i < publishers; i++)
                channels.Add(await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)));

            long consumed = 0, published = 0;
            var allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var publishing = true;
            var consumer = new AsyncEventingBasicConsumer(consuming);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                if (Interlocked.Increment(ref consumed) == Volatile.Read(ref published) && !Volatile.Read(ref publishing))
                    allConsumed.TrySetResult();
            };
            await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);

            var properties = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
            var cpuBefore = CpuTime.Now();
            var stopwatch = Stopwatch.StartNew();
            await Task.WhenAll(channels.Select(async channel =>
            {
                while (stopwatch.Elapsed < duration)
                {
                    Interlocked.Increment(ref published);
                    await channel.BasicPublishAsync("", queue, mandatory: true, properties, body);   // returns once confirmed
                }
            }));
            Volatile.Write(ref publishing, false);
            if (Interlocked.Read(ref consumed) < Interlocked.Read(ref published))
                await allConsumed.Task.WaitAsync(TimeSpan.FromMinutes(1));
            var elapsed = stopwatch.Elapsed;
            var cpu = CpuTime.Now() - cpuBefore;
            foreach (var channel in channels)
                await channel.DisposeAsync();
            return new Result(published / elapsed.TotalSeconds, cpu.Total.TotalMilliseconds / published, BodyBytes, prefetch);
        }
        finally
        {
            await consuming.QueueDeleteAsync(queue);
        }
    }
}
