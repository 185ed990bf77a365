using System.Diagnostics.Metrics;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Api;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Persistence;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Telemetry;

/// <summary>
/// The gauges of a serve node, read from the store every <c>Metrics:GaugePeriod</c> (default 5 s: one aggregate query over the summaries, a
/// count of the outbox and of the dead letters, the attention queue) so a scrape never waits on the database and every
/// node reports the same fleet-wide figures: the migrations in flight by phase, their data remaining and dirty rate
/// (KubeVirt's <c>…_data_remaining_bytes</c> and <c>…_dirty_memory_rate_bytes</c>, summed over the migrations of a
/// hypervisor and strategy), the admission queue, the attention queue by kind, the outbox backlog and the dead letters.
/// </summary>
public sealed class FleetGauges : BackgroundService
{
    public const string PeriodKey = "Metrics:GaugePeriod";
    static readonly TimeSpan DefaultPeriod = TimeSpan.FromSeconds(5);

    readonly IDocumentStore _store;
    readonly IOptions<AttentionOptions> _attention;
    readonly ILogger<FleetGauges> _logger;
    readonly TimeSpan _period;
    volatile Snapshot _latest = Snapshot.Empty;

    public FleetGauges(IDocumentStore store, IOptions<AttentionOptions> attention, ILogger<FleetGauges> logger, IMeterFactory meters,
        IConfiguration configuration)
    {
        (_store, _attention, _logger) = (store, attention, logger);
        _period = configuration.GetValue<TimeSpan?>(PeriodKey) ?? DefaultPeriod;
        // The host's own meter (same name as the static ones): each host of a process reports its own store.
        var meter = meters.Create(TransitionMetrics.MeterName);
        meter.CreateObservableGauge("orchestrator.migrations.in_flight", () => _latest.InFlight.Select(f =>
            new Measurement<long>(f.Count, Labels(f))), "{migration}", "Migrations not yet ended, by phase");
        meter.CreateObservableGauge("orchestrator.migration.data.remaining", () => _latest.InFlight.Select(f =>
            new Measurement<long>(f.BytesRemaining, Labels(f))), "By", "Memory still to send, summed over the migrations in flight");
        meter.CreateObservableGauge("orchestrator.migration.dirty_memory_rate", () => _latest.InFlight.Select(f =>
            new Measurement<long>(f.DirtyRate, Labels(f))), "By/s", "Guest dirty rate last measured, summed over the migrations in flight");
        meter.CreateObservableGauge("orchestrator.admission.queue.length", () => _latest.Queued, "{migration}", "Migrations waiting for admission");
        meter.CreateObservableGauge("orchestrator.attention", () => _latest.Attention.Select(a =>
            new Measurement<long>(a.Value, new KeyValuePair<string, object?>("kind", a.Key))), "{migration}", "Migrations on the attention queue, by kind");
        meter.CreateObservableGauge("orchestrator.outbox.backlog", () => _latest.OutboxBacklog, "{message}", "Committed messages not yet delivered");
        meter.CreateObservableGauge("orchestrator.dead_letters.stored", () => _latest.DeadLetters, "{message}", "Dead letters kept in the store");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_period);
        do
        {
            try
            {
                _latest = await Read(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // The gauges keep their last values while the database is away (readiness says it is); never a reason
                // for serve to stop.
                if (TransientFaults.IsTransient(exception))
                    _logger.LogDebug(exception, "The fleet gauges could not be read");
                else
                    _logger.LogWarning(exception, "The fleet gauges could not be read");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    async Task<Snapshot> Read(CancellationToken cancellationToken)
    {
        var schema = _store.Options.DatabaseSchemaName;
        var inFlight = new List<Flight>();
        long queued = 0, outbox, deadLetters;
        await using (var connection = _store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(
                $"""
                select coalesce(data->>'Hypervisor', 'unknown'), coalesce(data->>'Strategy', 'unknown'), data->>'State', count(*),
                       coalesce(sum((data->>'BytesRemaining')::bigint), 0), coalesce(sum((data->>'DirtyRateBytesPerSecond')::bigint), 0)
                from {schema}.mt_doc_migrationsummary where data->>'State' = any($1) group by 1, 2, 3
                """, connection))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = InFlightStates });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var flight = new Flight(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
                    inFlight.Add(flight);
                    if (flight.Phase == MigrationStates.Queued)
                        queued += flight.Count;
                }
            }
            outbox = await Count(connection, $"{schema}.mt_doc_outboxmessage", cancellationToken);
            deadLetters = await Count(connection, $"{schema}.mt_doc_deadletter", cancellationToken);
        }
        var attention = new Dictionary<string, long>(
            await _store.AttentionCounts(DateTimeOffset.UtcNow, _attention.Value.StuckAfter, _attention.Value.DeadLettersFor, cancellationToken));
        foreach (var kind in new[] { AttentionKinds.Stuck, AttentionKinds.DeadLetter })
            attention.TryAdd(kind, 0);
        return new Snapshot(inFlight, queued, attention, outbox, deadLetters);
    }

    static async Task<long> Count(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"select count(*) from {table}", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The states of a migration not yet ended, named rather than "not ended": the summaries' index on the state then
    /// finds them among every summary ever written, instead of reading the whole history every period.
    /// </summary>
    static readonly string[] InFlightStates = [.. MigrationStates.All.Where(state => !MigrationStates.IsTerminal(state))];

    static KeyValuePair<string, object?>[] Labels(Flight flight) =>
        [new("hypervisor", flight.Hypervisor), new("strategy", flight.Strategy), new("phase", flight.Phase)];

    sealed record Flight(string Hypervisor, string Strategy, string Phase, long Count, long BytesRemaining, long DirtyRate);

    sealed record Snapshot(IReadOnlyList<Flight> InFlight, long Queued, IReadOnlyDictionary<string, long> Attention, long OutboxBacklog, long DeadLetters)
    {
        public static readonly Snapshot Empty = new([], 0, new Dictionary<string, long>(), 0, 0);
    }
}
