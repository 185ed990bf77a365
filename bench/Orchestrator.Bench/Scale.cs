using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using Orchestrator.Contracts;
using Orchestrator.Workers.Sim;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Orchestrator.Bench;

/// <summary>
/// Many migrations in flight at once, on real processes: one <c>serve</c> and <c>workers</c> sim workers (together
/// serving <see cref="HostCount"/> hosts; a migration moves between two hosts of one worker) at their default settings,
/// started as a service would, over plain AMQP, at a steady pace. Every VM has 1 GiB, and the sim runs <c>timeFactor</c> times slower than the model's time, so each first pass
/// lasts minutes of wall time: longer than it takes to start them all, so they are all in flight together, and longer
/// than the progress timeout, so only the heartbeats keep them alive (the completion timeout is raised to match).
/// Sampled every second: the saga queue's depth, the migrations in flight, and the resident memory of both processes;
/// the saga's rate is the inbox records it wrote (one per message it applied) over the run, and the backlog's "seconds
/// of work" is its depth at that rate.
/// </summary>
public static class Scale
{
    const int HostCount = 1000;

    /// <param name="SagaMessagesPerSecond">Inbox records over the whole run, idle stretches included (heartbeats' records expire).</param>
    /// <param name="BackloggedRate">
    /// The saga's transitions per second (its <c>total</c> stage on serve's <c>/metrics</c>) while its queue held messages:
    /// the pace at which it works through a backlog, what "seconds of its own work" divides by. 0 when never backlogged.
    /// </param>
    public sealed record Result(int Migrations, int MaxInFlight, uint MaxBacklog, double SagaMessagesPerSecond, double BackloggedRate, double ServeRssMiB,
        double WorkerRssMiB, int Completed, TimeSpan Elapsed, int Lost, long MaxIntakeWaiting)
    {
        public double BacklogSeconds => MaxBacklog == 0 ? 0
            : BackloggedRate > 0 ? MaxBacklog / BackloggedRate
            : SagaMessagesPerSecond > 0 ? MaxBacklog / SagaMessagesPerSecond : double.PositiveInfinity;
    }

    /// <summary>
    /// The build's own orchestrator.dll, or the one <c>ORCHESTRATOR_BENCH_EXECUTABLE</c> names (bench/run.sh scale
    /// --ready-to-run: a ReadyToRun publish, whose code is compiled ahead of time instead of by the JIT as it first runs).
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable("ORCHESTRATOR_BENCH_EXECUTABLE") is { Length: > 0 } published
        ? published
        : Path.Combine(AppContext.BaseDirectory, "orchestrator.dll");

    public static async Task<Result> Run(string postgres, string rabbit, int migrations, double startsPerSecond, double timeFactor, int workers)
    {
        var schema = $"bench_scale_{Guid.NewGuid():N}"[..24];
        var hosts = Enumerable.Range(0, HostCount).Select(i => $"scale-{i:0000}").ToArray();
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["ConnectionStrings__RabbitMq"] = rabbit,
            ["Orchestrator__Schema"] = schema,
            // Admission would hold all but a handful back: this is about what runs at once, so it lets them all run.
            ["Admission__MaxOutboundPerHost"] = "1000",
            ["Admission__MaxInboundPerHost"] = "1000",
            ["Admission__MaxPerCluster"] = $"{migrations}",
            ["Sim__HostMemoryBytes"] = $"{1L << 50}",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // A known port, for its /metrics: the saga's transitions are counted there.
        var metricsPort = FreePort();
        using var serve = Child.Start("serve", environment, "serve", "--urls", $"http://127.0.0.1:{metricsPort}");
        var perWorker = HostCount / workers;
        var workerProcesses = Enumerable.Range(0, workers).Select(w => Child.Start($"worker-{w}", environment, ["worker", "--driver", "sim",
            "--real-time-factor", timeFactor.ToString(CultureInfo.InvariantCulture),
            .. hosts.Skip(w * perWorker).Take(perWorker).SelectMany(h => new[] { "--host", h })])).ToList();
        try
        {
            await using var connection = await new ConnectionFactory { Uri = new Uri(rabbit) }.CreateConnectionAsync();
            // Confirmed and mandatory: a command the broker did not take or could not route fails here, so one that never becomes a
            // migration is the orchestrator's.
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true));
            await WaitFor(async () => await Exists(connection, QueueNames.StartMigration) && await Exists(connection, QueueNames.Worker("sim", hosts[^1])),
                TimeSpan.FromMinutes(3), "serve and the worker to start");

            var vms = OneGiBVms().Take(migrations).ToArray();
            var completion = (int)Math.Ceiling(timeFactor * 4);
            var clock = Stopwatch.StartNew();
            var sent = new List<Guid>(migrations);
            var unroutable = 0;
            var sampler = new Sampler(sent, postgres, schema, connection, serve.Id, [.. workerProcesses.Select(w => w.Id)], new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
            var sampling = sampler.Run(migrations);
            for (var i = 0; i < migrations; i++)
            {
                var migrationId = Guid.NewGuid();
                var body = JsonSerializer.Serialize(new
                {
                    migrationId, vmId = vms[i], sourceHost = hosts[i % HostCount],
                    targetHost = hosts[i % HostCount / perWorker * perWorker + (i % HostCount + 1) % perWorker], hypervisor = HypervisorKinds.Sim,
                    strategy = MigrationStrategies.PreCopy, requestedBy = "bench-scale", policy = new { completionTimeoutSecondsPerGiB = completion },
                });
                // Mandatory: the intake's queue can exist a moment before MassTransit binds its exchange to it, and the broker
                // confirms a message it could route nowhere. Returned, it is sent again, and counted.
                while (true)
                {
                    try
                    {
                        await channel.BasicPublishAsync(QueueNames.StartMigration, string.Empty, mandatory: true,
                            new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent }, Encoding.UTF8.GetBytes(body));
                        break;
                    }
                    catch (PublishException returned) when (returned.IsReturn)
                    {
                        unroutable++;
                        await Task.Delay(50);
                    }
                }
                lock (sent)
                    sent.Add(migrationId);
                var due = TimeSpan.FromSeconds((i + 1) / startsPerSecond);
                if (due > clock.Elapsed)
                    await Task.Delay(due - clock.Elapsed);
            }
            Console.Error.WriteLine($"    scale: {migrations} StartMigration commands sent in {clock.Elapsed.TotalSeconds:0} s; "
                + $"{unroutable} came back unroutable (the intake's exchange not yet bound to its queue) and were sent again");
            sampler.AllSent = true;
            await sampling;
            return new Result(migrations, sampler.MaxInFlight, sampler.MaxBacklog, sampler.SagaMessages / clock.Elapsed.TotalSeconds, sampler.BackloggedRate,
                sampler.MaxServeRss / (1 << 20), sampler.MaxWorkerRss / (1 << 20), sampler.Completed, clock.Elapsed, sampler.Lost, sampler.MaxIntakeWaiting);
        }
        finally
        {
            serve.Kill();
            foreach (var worker in workerProcesses)
                worker.Dispose();
            await BenchSchema.Drop(postgres, schema);
        }
    }

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>VM ids the sim models with 1 GiB of memory, so every first pass takes the same time.</summary>
    static IEnumerable<string> OneGiBVms() =>
        Enumerable.Range(0, int.MaxValue).Select(i => $"scale-vm-{i}").Where(vm => SimVm.FromId(vm).MemoryBytes == 1L << 30);

    static async Task<bool> Exists(IConnection connection, string queue) => await MessageCount(connection, queue) is not null;

    /// <summary>How many messages <paramref name="queue"/> holds, or null when there is no such queue.</summary>
    static async Task<uint?> MessageCount(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return null;
        }
    }

    static async Task WaitFor(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(500);
        }
    }

    /// <summary>Once a second, until every migration has ended: what the figures are made of.</summary>
    sealed class Sampler(List<Guid> sent, string postgres, string schema, IConnection rabbit, int servePid, int[] workerPids, Uri metrics)
    {
        static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
        double _backloggedSeconds;
        double _backloggedTransitions;

        public double BackloggedRate => _backloggedSeconds > 0 ? _backloggedTransitions / _backloggedSeconds : 0;

        public int MaxInFlight { get; private set; }
        public uint MaxBacklog { get; private set; }
        public long SagaMessages { get; private set; }
        public double MaxServeRss { get; private set; }
        public double MaxWorkerRss { get; private set; }
        public int Completed { get; private set; }

        /// <summary>The most StartMigration commands that waited at once at the intake: in its queue, or held unacknowledged while the saga was behind.</summary>
        public long MaxIntakeWaiting { get; private set; }

        /// <summary>Every command is sent (and confirmed by the broker).</summary>
        public volatile bool AllSent;

        /// <summary>Commands that never became a migration: the run ended with every known one ended and nothing left to do.</summary>
        public int Lost { get; private set; }

        public async Task Run(int migrations)
        {
            await using var database = new NpgsqlConnection(postgres);
            await database.OpenAsync();
            await using var channel = await rabbit.CreateChannelAsync();
            var ended = 0;
            var samples = 0;
            (long At, double Transitions, uint Backlog)? previous = null;
            var known = 0;
            var idle = 0;
            var held = 0L;
            while (ended < migrations)
            {
                var intake = (await channel.QueueDeclarePassiveAsync(QueueNames.StartMigration)).MessageCount;
                MaxIntakeWaiting = Math.Max(MaxIntakeWaiting, intake + held);
                // Every migration there is has ended, nothing waits for the saga or the intake, for a minute: the rest are lost.
                if (AllSent && known == ended && known < migrations && intake == 0 && held == 0 && ++idle >= 60)
                {
                    Lost = migrations - known;
                    Console.Error.WriteLine($"    scale: {Lost} StartMigration commands never became a migration");
                    await Trace(database);
                    break;
                }
                if (known != ended)
                    idle = 0;
                await Task.Delay(1000);
                var backlog = (await channel.QueueDeclarePassiveAsync(QueueNames.MigrationSaga)).MessageCount;
                MaxBacklog = Math.Max(MaxBacklog, backlog);
                // The saga's pace over each second that began with messages waiting for it.
                var (transitions, heldNow) = await Scrape();
                held = heldNow ?? held;
                if (transitions is not null)
                {
                    var now = Stopwatch.GetTimestamp();
                    if (previous is { Backlog: > 0 } before && transitions >= before.Transitions)
                    {
                        _backloggedSeconds += Stopwatch.GetElapsedTime(before.At, now).TotalSeconds;
                        _backloggedTransitions += transitions.Value - before.Transitions;
                    }
                    previous = (now, transitions.Value, backlog);
                }
                MaxServeRss = Math.Max(MaxServeRss, Rss(servePid));
                MaxWorkerRss = Math.Max(MaxWorkerRss, workerPids.Max(Rss));
                await using var count = new NpgsqlCommand(
                    $"select count(*) filter (where not (data ->> 'IsTerminal')::boolean), count(*) filter (where (data ->> 'IsTerminal')::boolean), "
                    + $"count(*) filter (where data ->> 'State' = 'Completed'), (select count(*) from {schema}.mt_doc_inboxrecord), count(*) "
                    + $"from {schema}.mt_doc_migrationsummary", database);
                try
                {
                    await using var reader = await count.ExecuteReaderAsync();
                    await reader.ReadAsync();
                    MaxInFlight = Math.Max(MaxInFlight, (int)reader.GetInt64(0));
                    ended = (int)reader.GetInt64(1);
                    Completed = (int)reader.GetInt64(2);
                    SagaMessages = reader.GetInt64(3);
                    known = (int)reader.GetInt64(4);
                }
                catch (PostgresException missing) when (missing.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    // Not created yet: serve creates its tables as it starts.
                }
                if (++samples % 30 == 0)
                    Console.Error.WriteLine($"    scale, {samples} s: {ended} ended, {MaxInFlight} in flight at most, saga backlog at most {MaxBacklog}");
            }
        }

        /// <summary>
        /// Where the lost commands got to, before the schema and the virtual host go: for the first few, whether the saga,
        /// the stream or a dead letter has them; and what the intake's and the saga's error and skipped queues hold.
        /// </summary>
        async Task Trace(NpgsqlConnection database)
        {
            Guid[] ids;
            lock (sent)
                ids = [.. sent];
            await using var missing = new NpgsqlCommand(
                $"select sent.id from unnest($1::uuid[]) as sent(id) where not exists (select 1 from {schema}.mt_doc_migrationsummary s where s.id = sent.id) limit 5", database);
            missing.Parameters.Add(new NpgsqlParameter { Value = ids });
            var lost = new List<Guid>();
            await using (var reader = await missing.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    lost.Add(reader.GetGuid(0));
            foreach (var id in lost)
            {
                await using var state = new NpgsqlCommand(
                    $"select (select data ->> 'CurrentState' from {schema}.mt_doc_migrationstate where id = $1), "
                    + $"(select version from {schema}.mt_streams where id = $1), "
                    + $"(select count(*) from {schema}.mt_doc_deadletter where data ->> 'MigrationId' = $1::text)", database);
                state.Parameters.Add(new NpgsqlParameter { Value = id });
                await using var reader = await state.ExecuteReaderAsync();
                await reader.ReadAsync();
                Console.Error.WriteLine($"    scale: lost {id}: saga state {(reader.IsDBNull(0) ? "none" : reader.GetString(0))}, "
                    + $"stream version {(reader.IsDBNull(1) ? "none" : reader.GetInt64(1))}, dead letters {reader.GetInt64(2)}");
            }
            foreach (var queue in new[] { QueueNames.StartMigration, QueueNames.MigrationSaga })
                foreach (var suffix in new[] { "_error", "_skipped" })
                    // No such queue: nothing went there.
                    if (await MessageCount(rabbit, queue + suffix) is { } count)
                        Console.Error.WriteLine($"    scale: {queue}{suffix} holds {count} messages");
        }

        /// <summary>
        /// From serve's Prometheus text: the count of its <c>total</c> transition stage, and the commands its intake holds
        /// now (<c>orchestrator_intake_held</c>); null while it does not answer.
        /// </summary>
        async Task<(double? Transitions, long? Held)> Scrape()
        {
            try
            {
                var text = await Http.GetStringAsync(metrics);
                double? count = null;
                long? held = null;
                foreach (var line in text.Split('\n'))
                {
                    if (line.StartsWith("orchestrator_transition_duration", StringComparison.Ordinal) && line.Contains("_count{", StringComparison.Ordinal)
                        && line.Contains("stage=\"total\"", StringComparison.Ordinal))
                        count = (count ?? 0) + Value(line);
                    else if (line.StartsWith("orchestrator_intake_held", StringComparison.Ordinal))
                        held = (held ?? 0) + (long)Value(line);
                }
                return (count, held ?? 0);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
            {
                return (null, null);
            }

            static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }

        static double Rss(int pid)
        {
            try
            {
                var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }

    /// <summary>The orchestrator executable as a child process; its output goes to <c>$TMPDIR/bench-scale-NAME.log</c>.</summary>
    sealed class Child : IDisposable
    {
        readonly Process _process;

        Child(Process process) => _process = process;

        public int Id => _process.Id;

        public static Child Start(string name, IReadOnlyDictionary<string, string> environment, params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Executable);
            foreach (var argument in arguments)
                start.ArgumentList.Add(argument);
            foreach (var (key, value) in environment)
                start.Environment[key] = value;
            var process = Process.Start(start)!;
            // Kept for a look when a run goes wrong: the last lines of each role go to a file in the temporary folder.
            var log = new StreamWriter(Path.Combine(Path.GetTempPath(), $"bench-scale-{name}.log")) { AutoFlush = true };
            process.OutputDataReceived += (_, line) => Write(log, line.Data);
            process.ErrorDataReceived += (_, line) => Write(log, line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new Child(process);
        }

        static void Write(StreamWriter log, string? line)
        {
            if (line is null)
                return;
            lock (log)
                log.WriteLine(line);
        }

        public void Kill()
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }
    }
}
