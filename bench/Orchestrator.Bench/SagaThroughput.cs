using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Contracts.Workers;
using Orchestrator.Hosting;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Bench;

/// <summary>
/// The real stack (a serve host and a sim worker host on RabbitMQ and PostgreSQL) running many migrations at once.
/// Transitions are the messages the saga consumed; step latency is measured on the worker, from a report's send to
/// the arrival of the command the saga sent in answer.
/// </summary>
public static class SagaThroughput
{
    public sealed record Result(int Migrations, long Transitions, TimeSpan Elapsed, IReadOnlyList<double> Latencies,
        IReadOnlyDictionary<string, List<double>> Stages)
    {
        public double TransitionsPerSecond => Transitions / Elapsed.TotalSeconds;
    }

    public static async Task<Result> Measure(string postgres, string rabbit, int migrations, TimeSpan pace)
    {
        var settings = new OrchestratorSettings(postgres, rabbit, $"bench_{Guid.NewGuid():N}"[..20]);
        string[] hosts = [.. Enumerable.Range(0, 20).Select(i => $"bench-{i}")];
        var timing = new StepTiming();
        var stages = new ConcurrentDictionary<string, List<double>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == TransitionMetrics.InstrumentName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var list = stages.GetOrAdd(tags[0].Value as string ?? "?", _ => []);
            lock (list)
                list.Add(value);
        });
        listener.Start();

        using var serve = Build(builder => builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            ConfigureAdmission = limits => (limits.MaxInboundPerHost, limits.MaxOutboundPerHost, limits.MaxPerCluster) = (1000, 1000, 10000),
        }));
        using var worker = Build(builder => builder.Services.AddBus(settings, new BusOptions { WorkerHosts = hosts }));
        await serve.StartAsync();
        await worker.StartAsync();
        var workerBus = worker.Services.GetRequiredService<IBus>();
        workerBus.ConnectSendObserver(timing);
        workerBus.ConnectConsumeObserver(timing);
        try
        {
            var endpoint = await serve.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{QueueNames.StartMigration}"));
            var ids = new List<Guid>();
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < migrations; i++)
            {
                var command = new StartMigration(NewId.NextGuid(), $"bench-vm-{i}", hosts[i % hosts.Length], hosts[(i + 1) % hosts.Length],
                    HypervisorKinds.Sim, MigrationStrategies.PreCopy);
                ids.Add(command.MigrationId);
                await endpoint.Send(command);
                if (pace > TimeSpan.Zero)
                    await Task.Delay(pace);
            }

            var store = serve.Services.GetRequiredService<IDocumentStore>();
            while (true)
            {
                await using var session = store.QuerySession();
                var ended = await session.Query<MigrationSummary>()
                    .CountAsync(s => s.Id.IsOneOf(ids.ToArray()) && s.State.IsOneOf(MigrationStates.Completed, MigrationStates.RolledBack,
                        MigrationStates.Cancelled, MigrationStates.Rejected, MigrationStates.Failed));
                if (ended == migrations)
                    break;
                await Task.Delay(20);
            }
            stopwatch.Stop();

            await using var query = store.QuerySession();
            var events = await query.Events.QueryAllRawEvents().CountAsync();
            // Every saga transition appends at least one event; the intake and admission add none of their own.
            return new Result(migrations, timing.SagaTransitions(events), stopwatch.Elapsed, timing.Latencies(), stages);
        }
        finally
        {
            await worker.StopAsync();
            await serve.StopAsync();
        }
    }

    static IHost Build(Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure(builder);
        return builder.Build();
    }

    /// <summary>Send and receive times on the worker, per migration and message type.</summary>
    sealed class StepTiming : ISendObserver, IConsumeObserver
    {
        static readonly Dictionary<Type, Type> AnswerTo = new()
        {
            [typeof(BeginTransfer)] = typeof(TargetPrepared),
            [typeof(CleanupSource)] = typeof(SwitchoverCompleted),
        };

        readonly ConcurrentDictionary<(Guid, Type), long> _sent = new();
        readonly ConcurrentBag<double> _latencies = [];
        long _reports;

        public long SagaTransitions(long events) => Math.Max(events, Interlocked.Read(ref _reports));

        public IReadOnlyList<double> Latencies() => [.. _latencies];

        public Task PostSend<T>(SendContext<T> context)
            where T : class
        {
            if (context.CorrelationId is { } id)
            {
                _sent[(id, typeof(T))] = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref _reports);
            }
            return Task.CompletedTask;
        }

        public Task PreConsume<T>(ConsumeContext<T> context)
            where T : class
        {
            if (AnswerTo.TryGetValue(typeof(T), out var report) && GetMigrationId(context.Message) is { } id
                && _sent.TryGetValue((id, report), out var sentAt))
                _latencies.Add(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
            return Task.CompletedTask;
        }

        static Guid? GetMigrationId(object message) => message switch
        {
            BeginTransfer b => b.MigrationId,
            CleanupSource c => c.MigrationId,
            _ => null,
        };

        public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;
        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;
        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
