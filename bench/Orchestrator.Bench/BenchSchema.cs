using Npgsql;

namespace Orchestrator.Bench;

/// <summary>The benchmark's PostgreSQL schemas: each part drops its own when it ends, so runs do not pile them up.</summary>
public static class BenchSchema
{
    public static async Task Drop(string postgres, string schema)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop schema if exists {schema} cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
