using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Npgsql;

namespace Orchestrator.Bench;

/// <summary>
/// What the transitions of a run did, counted from the outside: PostgreSQL's own statistics for the database
/// (transactions, rows written), and the client libraries' meters in this process (Npgsql's commands, MassTransit's
/// messages sent and received by type). Divided by the transitions, it says what one costs in work, beside its CPU.
/// </summary>
public sealed class TransitionWork : IDisposable
{
    readonly MeterListener _listener = new();
    readonly ConcurrentDictionary<string, double> _totals = new();

    public TransitionWork()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is "MassTransit" or "Npgsql" || instrument.Name == Workflows.Persistence.TransitionMetrics.GroupSizeName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument.Name == Workflows.Persistence.TransitionMetrics.GroupSizeName)
        {
            _totals.AddOrUpdate("group.commits", 1, (_, total) => total + 1);
            _totals.AddOrUpdate("group.members", value, (_, total) => total + value);
            return;
        }
        // A histogram counts its measurements (commands run, messages handled); a counter sums them.
        var amount = instrument is Histogram<double> or Histogram<long> or Histogram<int> ? 1 : value;
        _totals.AddOrUpdate(instrument.Name, amount, (_, total) => total + amount);
        if (instrument.Meter.Name != "MassTransit" || !(instrument.Name.EndsWith(".send", StringComparison.Ordinal) || instrument.Name.EndsWith(".receive", StringComparison.Ordinal)))
            return;
        foreach (var tag in tags)
            if (tag.Key == "messaging.masstransit.message_type" && tag.Value is string type)
                _totals.AddOrUpdate($"{instrument.Name}:{type}", amount, (_, total) => total + amount);
    }

    public sealed record Snapshot(IReadOnlyDictionary<string, double> Meters, IReadOnlyDictionary<string, long> Database)
    {
        public static Snapshot operator -(Snapshot after, Snapshot before) => new(
            after.Meters.ToDictionary(m => m.Key, m => m.Value - before.Meters.GetValueOrDefault(m.Key)),
            after.Database.ToDictionary(d => d.Key, d => d.Value - before.Database.GetValueOrDefault(d.Key)));

        /// <summary>Each figure per transition, in a few lines: PostgreSQL's, then the messages by type.</summary>
        public IEnumerable<string> Describe(long transitions)
        {
            if (transitions == 0)
                yield break;
            string Per(double total) => (total / transitions).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
            double Meter(string suffix) => Meters.Where(m => m.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(m => m.Value);
            yield return $"per transition, PostgreSQL: {Per(Database["xact_commit"])} commits, {Per(Database["xact_rollback"])} rollbacks, "
                + $"rows {Per(Database["tup_inserted"])} inserted, {Per(Database["tup_updated"])} updated, {Per(Database["tup_deleted"])} deleted, "
                + $"{Per(Database["tup_fetched"])} fetched; Npgsql: "
                + string.Join(", ", Meters.Where(m => m.Key.StartsWith("db.client", StringComparison.Ordinal) && m.Value != 0).OrderBy(m => m.Key)
                    .Select(m => $"{Per(m.Value)} {m.Key["db.client.".Length..]}"));
            var groups = Meters.GetValueOrDefault("group.commits");
            yield return groups == 0 ? "group commit: none (every transition committed alone)"
                : $"group commit: {Meters.GetValueOrDefault("group.members") / transitions:P0} of the transitions committed through it, in {groups:0} commits "
                  + $"of {Meters.GetValueOrDefault("group.members") / groups:0.00} transitions on average";
            yield return $"per transition, messages: {Per(Meter(".send"))} sent (published included), {Per(Meter(".receive"))} received; "
                + string.Join(", ", Meters.Where(m => m.Key.StartsWith("messaging.masstransit", StringComparison.Ordinal) && !m.Key.Contains(':') && m.Value != 0)
                    .OrderBy(m => m.Key).Select(m => $"{Per(m.Value)} {m.Key["messaging.masstransit.".Length..]}"));
            foreach (var kind in new[] { "send", "receive" })
                yield return $"    {kind} by type: " + string.Join(", ", Meters
                    .Where(m => m.Key.StartsWith($"messaging.masstransit.{kind}:", StringComparison.Ordinal) && m.Value > 0)
                    .OrderByDescending(m => m.Value)
                    .Select(m => $"{ShortType(m.Key[(m.Key.IndexOf(':') + 1)..])} {Per(m.Value)}"));
        }

        static string ShortType(string type) => type.Split(':', '.', '/').Where(p => p.Length > 0).LastOrDefault() ?? type;
    }

    public async Task<Snapshot> Take(string postgres)
    {
        var database = new Dictionary<string, long>();
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        // Statistics are sent to the collector at the end of each transaction: flushed now, read at once.
        await using (var flush = new NpgsqlCommand("select pg_stat_clear_snapshot()", connection))
            await flush.ExecuteNonQueryAsync();
        await using var command = new NpgsqlCommand(
            "select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched from pg_stat_database where datname = current_database()",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        for (var i = 0; i < reader.FieldCount; i++)
            database[reader.GetName(i)] = reader.GetInt64(i);
        return new Snapshot(new Dictionary<string, double>(_totals), database);
    }

    public void Dispose() => _listener.Dispose();
}
