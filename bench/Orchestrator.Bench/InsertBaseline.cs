using System.Diagnostics;
using Npgsql;

namespace Orchestrator.Bench;

/// <summary>
/// The ceiling for anything that commits one transaction per step: single-row INSERTs in autocommit
/// (<c>synchronous_commit = on</c>, the server's default, which this run's PostgreSQL keeps).
/// </summary>
public static class InsertBaseline
{
    /// <summary>Commits per second, and the CPU of every process (this one, PostgreSQL, RabbitMQ) per commit.</summary>
    public sealed record Result(double CommitsPerSecond, double CpuMsPerCommit);

    public static async Task<Result> Measure(string connectionString, int clients, TimeSpan duration)
    {
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, payload text)", setup);
            await create.ExecuteNonQueryAsync();
        }

        var connections = new List<NpgsqlConnection>();
        try
        {
            var commands = new List<NpgsqlCommand>();
            for (var client = 0; client < clients; client++)
            {
                var connection = new NpgsqlConnection(connectionString);
                connections.Add(connection);
                await connection.OpenAsync();
                var insert = new NpgsqlCommand("INSERT INTO bench_baseline (payload) VALUES ($1)", connection);
                insert.Parameters.Add(new NpgsqlParameter { Value = "step" });
                await insert.PrepareAsync();
                commands.Add(insert);
            }

            // Measured once every connection is open, so the CPU counted is the commits' and not the connections' set-up.
            var cpuBefore = CpuTime.Now();
            var stopwatch = Stopwatch.StartNew();
            var counts = await Task.WhenAll(commands.Select(async insert =>
            {
                var count = 0;
                while (stopwatch.Elapsed < duration)
                {
                    await insert.ExecuteNonQueryAsync();
                    count++;
                }
                return count;
            }));
            var elapsed = stopwatch.Elapsed;
            var cpu = CpuTime.Now() - cpuBefore;
            var commits = counts.Sum();
            return new Result(commits / elapsed.TotalSeconds, cpu.Total.TotalMilliseconds / commits);
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }
}
