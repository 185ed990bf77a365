using System.Diagnostics;
using Npgsql;

namespace Orchestrator.Bench;

/// <summary>The ceiling for anything that commits one transaction per step: single-row INSERTs in autocommit.</summary>
public static class InsertBaseline
{
    public static async Task<double> Measure(string connectionString, int clients, TimeSpan duration)
    {
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, payload text)", setup);
            await create.ExecuteNonQueryAsync();
        }

        var stopwatch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO bench_baseline (payload) VALUES ($1)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = "step" });
            await insert.PrepareAsync();
            var count = 0;
            while (stopwatch.Elapsed < duration)
            {
                await insert.ExecuteNonQueryAsync();
                count++;
            }
            return count;
        }));
        return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
    }
}
