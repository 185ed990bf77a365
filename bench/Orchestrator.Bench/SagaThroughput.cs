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
/// The hosts start once and run an unmeasured warm-up batch first (the JIT compiles a few thousand methods in the
/// first seconds: a cold start, not the steady state a long-running orchestrator is in). Transitions are the messages
/// the saga applied (the <c>total</c> stage of <see cref="TransitionMetrics"/>); step latency is measured on the worker,
/// from a report's send to the arrival of the command the saga sent in answer.
/// </summary>
public sealed class SagaThroughput : IAsyncDisposable
{
    public static readonly string[] Hosts = [.. Enumerable.Range(0, 20).Select(i => $"bench-{i}")];

    readonly IHost _serve;
    readonly IHost _worker;
    readonly OrchestratorSettings _settings;
    readonly MeterListener _listener = new();
    readonly StepTiming _timing = new();
    readonly TransitionWork _work = new();
    ConcurrentDictionary<string, List<double>> _stages = new();
    int _batch;

    public sealed record Result(int Migrations, long Transitions, TimeSpan Elapsed, IReadOnlyList<double> Latencies,
        IReadOnlyDictionary<string, List<double>> Stages, long JitMethods, CpuTime.Sample Cpu, TransitionWork.Snapshot Work, GcWork Gc)
    {
        public double TransitionsPerSecond => Transitions / Elapsed.TotalSeconds;

        /// <summary>CPU milliseconds per transition: this process (serve + worker), PostgreSQL, RabbitMQ.</summary>
        public string CpuPerTransition => Transitions == 0 ? "n/a"
            : $"{Cpu.Process.TotalMilliseconds / Transitions:0.00} ms orchestrator + worker, {Cpu.Postgres.TotalMilliseconds / Transitions:0.00} ms PostgreSQL, "
              + $"{Cpu.RabbitMq.TotalMilliseconds / Transitions:0.00} ms RabbitMQ";
    }

    SagaThroughput(IHost serve, IHost worker, OrchestratorSettings settings)
    {
        (_serve, _worker, _settings) = (serve, worker, settings);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == TransitionMetrics.InstrumentName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var list = _stages.GetOrAdd(tags[0].Value as string ?? "?", _ => []);
            lock (list)
                list.Add(value);
        });
        _listener.Start();
    }

    public static async Task<SagaThroughput> Start(string postgres, string rabbit)
    {
        var settings = new OrchestratorSettings(postgres, rabbit, $"bench_{Guid.NewGuid():N}"[..20]);
        var serve = Build(builder => builder.Services.AddEventStore(settings).AddBus(settings, new BusOptions
        {
            Workflows = true,
            ConfigureAdmission = limits => (limits.MaxInboundPerHost, limits.MaxOutboundPerHost, limits.MaxPerCluster) = (1000, 1000, 10000),
        }));
        var worker = Build(builder => builder.Services.AddBus(settings, new BusOptions
        {
            WorkerHosts = Hosts,
            // Every batch moves more VMs onto the same hosts: room enough for all of them.
            ConfigureSim = sim => sim.HostMemoryBytes = 1L << 50,
        }));
        await serve.StartAsync();
        await worker.StartAsync();
        var bench = new SagaThroughput(serve, worker, settings);
        var workerBus = worker.Services.GetRequiredService<IBus>();
        workerBus.ConnectSendObserver(bench._timing);
        workerBus.ConnectConsumeObserver(bench._timing);
        return bench;
    }

    /// <summary>Starts <paramref name="migrations"/> migrations, one every <paramref name="pace"/>, and waits until all have ended.</summary>
    public async Task<Result> Run(int migrations, TimeSpan pace)
    {
        var batch = ++_batch;
        _timing.Reset();
        _stages = new();
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var gcBefore = GcWork.Now();
        var workBefore = await _work.Take(_settings.Postgres);
        var cpuBefore = CpuTime.Now();
        var startedAt = DateTimeOffset.UtcNow;
        var endedAt = await SimBatch.Run(_serve, Hosts, $"bench-vm-{batch}", migrations, pace);
        var cpu = CpuTime.Now() - cpuBefore;
        var work = await _work.Take(_settings.Postgres) - workBefore;
        var stages = _stages;
        return new Result(migrations, stages.TryGetValue("total", out var totals) ? totals.Count : 0, endedAt - startedAt, _timing.Latencies(), stages,
            System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore, cpu, work, GcWork.Now() - gcBefore);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _listener.Dispose();
            _work.Dispose();
            await _worker.StopAsync();
            await _serve.StopAsync();
            _worker.Dispose();
            _serve.Dispose();
        }
        finally
        {
            await BenchSchema.Drop(_settings.Postgres, _settings.Schema);
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
            [typeof(PrepareTarget)] = typeof(PreflightPassed),
            [typeof(BeginTransfer)] = typeof(TargetPrepared),
            [typeof(CleanupSource)] = typeof(SwitchoverCompleted),
        };

        readonly ConcurrentDictionary<(Guid, Type), long> _sent = new();
        ConcurrentBag<double> _latencies = [];

        public void Reset() => _latencies = [];

        public IReadOnlyList<double> Latencies() => [.. _latencies];

        public Task PostSend<T>(SendContext<T> context)
            where T : class
        {
            if (context.CorrelationId is { } id)
                _sent[(id, typeof(T))] = Stopwatch.GetTimestamp();
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
            PrepareTarget p => p.MigrationId,
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

/// <summary>What the .NET garbage collector did in this process (serve and worker) over a run.</summary>
public readonly record struct GcWork(long AllocatedBytes, int Gen0, int Gen1, int Gen2, TimeSpan Paused)
{
    public static GcWork Now() => new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
        GC.GetTotalPauseDuration());

    public static GcWork operator -(GcWork after, GcWork before) => new(after.AllocatedBytes - before.AllocatedBytes, after.Gen0 - before.Gen0,
        after.Gen1 - before.Gen1, after.Gen2 - before.Gen2, after.Paused - before.Paused);

    public string Describe(long transitions) => transitions == 0 ? "n/a"
        : $"{AllocatedBytes / 1024.0 / transitions:0.0} KiB allocated per transition; collections gen0 {Gen0}, gen1 {Gen1}, gen2 {Gen2}; paused {Paused.TotalMilliseconds:0} ms";
}
