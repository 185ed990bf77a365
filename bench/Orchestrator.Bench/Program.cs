using Orchestrator.Bench;

// bench/run.sh [qemu | saga | migrations] [--events N] [--history-only]
var onlyQemu = args.Length > 0 && args[0] == "qemu";
var onlySaga = args.Length > 0 && args[0] == "saga";
var eventsAt = Array.IndexOf(args, "--events");
var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (eventsAt < 0 || i != eventsAt + 1) && a != "saga").ToList();
var migrations = positional.Count > 0 && int.TryParse(positional[0], out var n) ? n : 300;
var events = eventsAt >= 0 && eventsAt + 1 < args.Length && long.TryParse(args[eventsAt + 1], out var e) ? e : 1_000_000;
var historyOnly = args.Contains("--history-only");
// bench/run.sh predict: the predictor's forecasts against the sim's migrations (no services needed).
if (args.Length > 0 && args[0] == "predict")
{
    var compared = Prediction.Run();
    var ended = compared.Where(c => c.Actual.Ending != Orchestrator.Workflows.Prediction.ForecastOutcomes.Aborts).ToList();
    foreach (var (name, pick) in new (string, Func<Prediction.Compared, Orchestrator.Workflows.Prediction.MigrationForecast>)[]
        { ("prediction", c => c.Predicted), ("upper-bound baseline", c => c.Baseline) })
        Console.WriteLine($"{name}: median error total time {100 * Median(ended.Select(c => c.TotalError(pick(c)))):0.0} %, "
            + $"downtime {100 * Median(ended.Select(c => c.DowntimeError(pick(c)))):0.0} % (goals <= 15 %, <= 25 %), over {ended.Count} migrations");
    Console.WriteLine($"    ending foreseen (converges / post-copy / aborts): {compared.Count(c => c.Predicted.Outcome == c.Actual.Ending)} of {compared.Count}; "
        + "per kind, median error total / downtime: " + string.Join("; ", ended.GroupBy(c => c.Kind).Select(g =>
            $"{g.Key} {100 * Median(g.Select(c => c.TotalError(c.Predicted))):0.0} % / {100 * Median(g.Select(c => c.DowntimeError(c.Predicted))):0.0} %")));
    foreach (var gbit in new[] { 25, 10 })
    {
        var (linkAware, fixedLimit, fixedAtFive) = DrainSchedule.Run(gbit * 1e9);
        Console.WriteLine($"{(gbit == 25 ? "drain" : "    drain, 10 Gbit/s")}: {linkAware.Migrations} VMs over shared links, link-aware {linkAware.Seconds:0} s vs fixed-limit {fixedLimit.Seconds:0} s, "
            + $"ratio {linkAware.Seconds / fixedLimit.Seconds:0.00} (goal <= 0.8), SLO misses {linkAware.SloMisses} vs {fixedLimit.SloMisses}");
        Console.WriteLine($"    {gbit} Gbit/s uplink shared by the drain ({linkAware.MemoryBytes / (gbit * 1e9 / 8):0} s to send every VM's memory once); "
            + $"at most {linkAware.MostAtOnce} at once link-aware, {fixedLimit.MostAtOnce} fixed-limit (2 per host, each at most 1,024 MiB/s); "
            + $"the fixed limit raised to 5: {fixedAtFive.Seconds:0} s, SLO misses {fixedAtFive.SloMisses} (a miss: the guest throttled, or aborted)");
    }
    return;
}

var postgres = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
    ?? throw new InvalidOperationException("Run through bench/run.sh, which starts the services and sets the connection strings.");
var rabbit = Environment.GetEnvironmentVariable("ConnectionStrings__RabbitMq")!;

// bench/run.sh scale [migrations] [--starts-per-second R] [--time-factor F] [--workers W]: many in flight at once, on real processes.
if (args.Length > 0 && args[0] == "scale")
{
    double Option(string name, double fallback) =>
        Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    var count = args.Length > 1 && int.TryParse(args[1], out var c) ? c : 10_000;
    var scale = await Scale.Run(postgres, rabbit, count, Option("--starts-per-second", 40), Option("--time-factor", 1000), (int)Option("--workers", 10));
    Console.WriteLine($"scale: {scale.MaxInFlight} in flight, saga backlog max {scale.MaxBacklog} messages ({scale.BacklogSeconds:0.0} s of work), "
        + $"serve RSS {scale.ServeRssMiB:0} MiB, worker RSS {scale.WorkerRssMiB:0} MiB; goals: at most 10 s of work, serve under 500 MiB, worker under 300 MiB");
    Console.WriteLine($"    {scale.Migrations} migrations started, {scale.Completed} completed in {scale.Elapsed.TotalSeconds:0} s; the saga applied "
        + $"{scale.BackloggedRate:0} transitions/s while messages waited for it (what 's of work' divides by), "
        + $"{scale.SagaMessagesPerSecond:0} messages/s on average over the whole run, idle stretches included; "
        + $"{scale.Lost} commands confirmed by the broker never became a migration; serve and workers ran {Scale.Executable}");
    Console.WriteLine($"    at most {scale.MaxIntakeWaiting} StartMigration commands waited at the intake at once (queued, or held while the saga's queue was over its limit)");
    return;
}

// Real QEMU: the same migrations by the orchestrator and by a direct QMP sequence, in this run.
if (!onlySaga && !historyOnly && Environment.GetEnvironmentVariable("ORCHESTRATOR_QEMU_GUEST") is { Length: > 0 } guest)
{
    var (qemuResults, tlsCost, diskCost, forecasts) = await QemuMigrations.Measure(postgres, rabbit, guest, repeats: 5,
        Environment.GetEnvironmentVariable("ORCHESTRATOR_BENCH_TLS") is { Length: > 0 } tlsDirectory ? tlsDirectory : null);
    foreach (var result in qemuResults)
    {
        var orchestrated = Median(result.Orchestrated.Select(r => r.TotalMs));
        var direct = Median(result.Direct.Select(r => r.TotalMs));
        Console.WriteLine($"qemu, {result.Scenario}: total {orchestrated:0} ms orchestrated vs {direct:0} ms direct QMP (median of {result.Direct.Count}), "
            + $"ratio {orchestrated / direct:0.00} (goal <= 1.10), {orchestrated - direct:0} ms more; QEMU-reported downtime {Median(result.Orchestrated.Select(r => r.QemuDowntimeMs)):0} ms vs "
            + $"{Median(result.Direct.Select(r => r.QemuDowntimeMs)):0} ms (goal: unchanged)");
        Console.WriteLine($"    runs (total ms/downtime ms/rounds (ms to target ready + transfer + after the switchover)): orchestrated {string.Join(", ", result.Orchestrated.Select(r => $"{r.TotalMs:0}/{r.QemuDowntimeMs:0}/{r.Rounds} ({r.Phases})"))}; "
            + $"direct {string.Join(", ", result.Direct.Select(r => r.Rounds < 0 ? "not converged in 120 s" : $"{r.TotalMs:0}/{r.QemuDowntimeMs:0}/{r.Rounds} ({r.Phases})"))}");
    }
    if (forecasts.Count > 0)
    {
        static double Error(double predicted, double actual) => Math.Abs(predicted - actual) / actual * 100;
        Console.WriteLine($"qemu prediction: median error total time {Median(forecasts.Select(f => Error(f.ForecastSeconds, f.QemuSeconds))):0.0} %, "
            + $"downtime {Median(forecasts.Select(f => Error(f.ForecastDowntimeMs, f.QemuDowntimeMs))):0.0} % (goals <= 15 %, <= 25 %), over {forecasts.Count} migrations");
        Console.WriteLine($"qemu upper-bound baseline: median error total time {Median(forecasts.Select(f => Error(f.UpperBoundSeconds, f.QemuSeconds))):0.0} %, "
            + $"downtime {Median(forecasts.Select(f => Error(f.UpperBoundDowntimeMs, f.QemuDowntimeMs))):0.0} % (goals <= 15 %, <= 25 %), over {forecasts.Count} migrations");
        Console.WriteLine($"    runs (forecast s/QEMU s, forecast downtime ms/QEMU ms, from N earlier): {string.Join(", ", forecasts.Select(f =>
            FormattableString.Invariant($"{f.ForecastSeconds:0.00}/{f.QemuSeconds:0.00}, {f.ForecastDowntimeMs:0}/{f.QemuDowntimeMs:0}, {f.FromMigrations}")))}");
    }
    {
        double diskMs = Median(diskCost.Disk.Select(r => r.TotalMs)), memoryMs = Median(diskCost.Plain.Select(r => r.TotalMs));
        Console.WriteLine($"qemu disk: {diskMs:0} ms with a {QemuMigrations.DiskBytes / (1024 * 1024)} MiB local disk vs {memoryMs:0} ms memory only "
            + $"({diskCost.Scenario}, orchestrated, plain TCP, median of {diskCost.Disk.Count}), {diskMs - memoryMs:0} ms more; mirror ready after "
            + $"{Median(diskCost.Disk.Select(r => r.DiskMirrorReadyMs)):0} ms; QEMU-reported downtime {Median(diskCost.Disk.Select(r => r.QemuDowntimeMs)):0} ms vs "
            + $"{Median(diskCost.Plain.Select(r => r.QemuDowntimeMs)):0} ms");
    }
    if (tlsCost is not null)
    {
        double tlsMs = Median(tlsCost.Tls.Select(r => r.TotalMs)), plainMs = Median(tlsCost.Plain.Select(r => r.TotalMs));
        Console.WriteLine($"qemu tls: {tlsMs:0} ms vs {plainMs:0} ms plain ({tlsCost.Scenario}, orchestrated, median of {tlsCost.Tls.Count}), "
            + $"{tlsMs - plainMs:0} ms more; QEMU-reported downtime {Median(tlsCost.Tls.Select(r => r.QemuDowntimeMs)):0} ms vs "
            + $"{Median(tlsCost.Plain.Select(r => r.QemuDowntimeMs)):0} ms");
    }
}
if (onlyQemu)
    return;

if (!historyOnly)
{
    var coldInsert = await InsertBaseline.Measure(postgres, clients: 4, TimeSpan.FromSeconds(5));
    var coldBaseline = coldInsert.CommitsPerSecond;
    Console.WriteLine($"baseline, first: {coldBaseline:0} single-row INSERT transactions/s (4 clients, PostgreSQL of this run), "
        + $"{coldInsert.CpuMsPerCommit:0.000} ms CPU per commit (all processes)");

    await using var saga = await SagaThroughput.Start(postgres, rabbit);
    // Unmeasured warm-up batches until the JIT has settled: tiered compilation recompiles hot methods for a while
    // after the first calls (thousands of methods, seconds of CPU), which a long-running orchestrator has long done.
    for (var round = 1; ; round++)
    {
        var warmUp = await saga.Run(migrations, pace: TimeSpan.Zero);
        Console.WriteLine($"saga warm-up {round} (unmeasured), {warmUp.Migrations} migrations: {warmUp.TransitionsPerSecond:0} transitions/s, "
            + $"{warmUp.JitMethods} methods compiled");
        if (warmUp.JitMethods < 200 || round == 8)
            break;
    }
    using var allocations = AllocationSampler.Wanted ? new AllocationSampler() : null;
    allocations?.Start();
    var throughput = await saga.Run(migrations, pace: TimeSpan.Zero);
    // Measured again right after the saga's run, on code as warm as the saga's and the machine as it is now; the higher
    // of the two is the baseline, so neither a cold start nor a busier moment can flatter the ratio.
    var warmInsert = await InsertBaseline.Measure(postgres, clients: 4, TimeSpan.FromSeconds(5));
    var warmBaseline = warmInsert.CommitsPerSecond;
    var baseline = Math.Max(coldBaseline, warmBaseline);
    Console.WriteLine($"baseline, again after the warm-up: {warmBaseline:0} single-row INSERT transactions/s, {warmInsert.CpuMsPerCommit:0.000} ms CPU per commit; "
        + $"the ratio below is to {baseline:0}");
    // The physical floor of a durable transition (issue 18): one commit of its state and the two messages it exchanges
    // (the report in, the next command out), each measured here on the same services, warm, with every process's CPU.
    var message = await MessageBaseline.Measure(rabbit, publishers: 4, TimeSpan.FromSeconds(5));
    Console.WriteLine($"baseline, one message: {message.MessagesPerSecond:0} persistent messages/s published with a confirm and consumed with an ack "
        + $"({message.BodyBytes} B, durable classic queue, prefetch {message.Prefetch}, 4 publishers), {message.CpuMsPerMessage:0.000} ms CPU per message");
    Console.WriteLine($"saga, {throughput.Migrations} migrations at once: {throughput.Transitions} transitions in {throughput.Elapsed.TotalSeconds:0.00} s "
        + $"= {throughput.TransitionsPerSecond:0} transitions/s; ratio to baseline {throughput.TransitionsPerSecond / baseline:0.00} (goal >= 0.40)");
    Console.WriteLine($"    CPU per transition: {throughput.CpuPerTransition}; {throughput.JitMethods} methods compiled meanwhile");
    Console.WriteLine($"    .NET (orchestrator + worker): {throughput.Gc.Describe(throughput.Transitions)}");
    foreach (var line in allocations?.Top(throughput.Transitions) ?? [])
        Console.WriteLine("        " + line);
    foreach (var line in throughput.Work.Describe(throughput.Transitions))
        Console.WriteLine($"    {line}");
    // The lower of the two INSERT measurements' CPU per commit: the floor is what a commit can cost, not what it cost at a busier moment.
    var insertCpu = Math.Min(coldInsert.CpuMsPerCommit, warmInsert.CpuMsPerCommit);
    var floor = insertCpu + 2 * message.CpuMsPerMessage;
    var transitionCpu = throughput.Transitions == 0 ? double.NaN : throughput.Cpu.Total.TotalMilliseconds / throughput.Transitions;
    Console.WriteLine($"saga cost: {transitionCpu:0.000} ms CPU per transition (all processes); one INSERT commit {insertCpu:0.000} ms + "
        + $"2 messages {2 * message.CpuMsPerMessage:0.000} ms = {floor:0.000} ms; ratio {transitionCpu / floor:0.00} (goal <= 1.5)");

    // Latency under a steady load below the throughput above, not behind a backlog: one new migration every 100 ms
    // (about 150 transitions/s).
    var steady = await saga.Run(migrations: 100, pace: TimeSpan.FromMilliseconds(100));
    Console.WriteLine($"step latency at one new migration per 100 ms (worker report sent -> next command received, {steady.Latencies.Count} steps): "
        + $"p50 {Percentile(steady.Latencies, 0.50):0.0} ms, p99 {Percentile(steady.Latencies, 0.99):0.0} ms (goal p99 <= 20 ms)");
    Console.WriteLine("    inside the saga, per transition (p50 / p99 ms): " + string.Join("; ",
        steady.Stages.OrderBy(s => s.Key).Select(s => $"{s.Key} {Percentile(s.Value, 0.50):0.0} / {Percentile(s.Value, 0.99):0.0}")));
}

if (onlySaga)
    return;

var history = await HistoryThroughput.Measure(postgres, events);
Console.WriteLine($"history: {history.Events:N0} events in {history.Streams:N0} hash-chained migration streams, seeded in {history.Seed.TotalSeconds:0.0} s "
    + $"(generating and hashing {history.Generating.TotalSeconds:0.0} s, COPY {history.Copying.TotalSeconds:0.0} s)");
Console.WriteLine($"raw read (SELECT * FROM mt_events, every row, best of 3): {history.RawRead.TotalSeconds:0.00} s = {history.RawReadPerSecond:N0} events/s (baseline)");
Console.WriteLine($"replay (daemon rebuild of every migration summary): {history.Replay.TotalSeconds:0.00} s = {history.ReplayPerSecond:N0} events/s; "
    + $"ratio to raw read {history.ReplayPerSecond / history.RawReadPerSecond:0.000}");
Console.WriteLine($"replay (one ordered read of the events, every summary folded and written in bulk, best of 3): {history.BulkReplay.TotalSeconds:0.00} s = "
    + $"{history.BulkReplayPerSecond:N0} events/s; ratio to raw read {history.BulkReplayPerSecond / history.RawReadPerSecond:0.000}");
Console.WriteLine($"verify (every hash chain re-computed, {history.Broken} broken, best of 3): {history.Verify.TotalSeconds:0.00} s = {history.VerifyPerSecond:N0} events/s; "
    + $"ratio to raw read {history.VerifyPerSecond / history.RawReadPerSecond:0.000}");
var (rawProcess, rawPostgres) = history.MicrosecondsPerEvent(history.RawReadCpu);
var (rebuildProcess, rebuildPostgres) = history.MicrosecondsPerEvent(history.RebuildCpu);
var (verifyProcess, verifyPostgres) = history.MicrosecondsPerEvent(history.VerifyCpu);
Console.WriteLine($"    CPU per event: raw read {rawProcess:0.00} µs here + {rawPostgres:0.00} µs PostgreSQL; rebuild {rebuildProcess:0.00} µs + {rebuildPostgres:0.00} µs; verify {verifyProcess:0.00} µs here + {verifyPostgres:0.00} µs PostgreSQL");
Console.WriteLine($"    cores busy (this process and PostgreSQL, of {Environment.ProcessorCount}): raw read {HistoryThroughput.Result.CoresBusy(history.RawReadCpu, history.RawReadPasses):0.00}, "
    + $"rebuild {HistoryThroughput.Result.CoresBusy(history.RebuildCpu, history.RebuildPasses):0.00}, verify {HistoryThroughput.Result.CoresBusy(history.VerifyCpu, history.VerifyPasses):0.00}");
Console.WriteLine($"    verify's read alone (its query and row parsing, no hash): {history.VerifyRead.TotalSeconds:0.00} s = {history.VerifyReadPerSecond:N0} events/s");
Console.WriteLine($"verify compute (hash chains only, one thread, rows in memory): {history.VerifyComputeMicrosecondsPerEvent:0.00} µs/event; "
    + $"raw read {1e6 / history.RawReadPerSecond:0.00} µs/event");

static double Median(IEnumerable<double> values) => Percentile([.. values.Where(v => !double.IsNaN(v))], 0.50);

static double Percentile(IReadOnlyList<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
