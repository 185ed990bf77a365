using System.Security.Cryptography;
using Npgsql;

namespace Orchestrator.TestSupport;

/// <summary>
/// A PostgreSQL schema no other test class uses, so tests on one database never see each other's data; dropped with
/// everything in it when its owner (a test class, a fixture) is disposed, pass or fail.
/// <para>
/// Its name says which test run made it: <c>t_{prefix}_{run}_{random}</c>. Every test process of a run holds a shared
/// advisory lock on the run's key for as long as it lives (see <see cref="RunLock"/>), so the schemas of a run whose
/// lock nobody holds any more belong to processes that are gone (killed, crashed) and can be dropped without asking
/// anyone: infra/schemas.sh does that, for ./test.sh, and only that.
/// </para>
/// </summary>
public sealed class TestSchema : IAsyncDisposable
{
    /// <summary>The first key of the runs' advisory locks ("tsch"): apart from any lock the product takes.</summary>
    public const int LockClass = 0x74736368;

    static readonly Lazy<RunLock> Run = new(RunLock.Take);

    TestSchema(string name) => Name = name;

    public string Name { get; }

    /// <param name="prefix">Lower-case letters and digits: says whose schema it is (<c>wf</c>, <c>e2e</c>, …).</param>
    public static TestSchema Create(string prefix)
    {
        if (prefix.Length is 0 or > 12 || !prefix.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9'))
            throw new ArgumentException($"'{prefix}': a schema prefix is 1 to 12 lower-case letters and digits.", nameof(prefix));
        // The lock first: from the moment the name exists, the run it names is seen as alive.
        return new TestSchema($"t_{prefix}_{Run.Value.Key}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        // A bounded wait for the schema's locks: a drop that cannot get them fails the class instead of hanging the run.
        await using var drop = new NpgsqlCommand($"set lock_timeout = '30s'; drop schema if exists {Name} cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The run's key (<c>ORCHESTRATOR_TEST_RUN</c>, which ./test.sh sets for all its test processes, else one of this
    /// process's own) and the connection that holds the shared advisory lock on it until the process ends. The
    /// connection is never closed: when the process goes, however it goes, PostgreSQL ends its session and the lock.
    /// </summary>
    sealed class RunLock
    {
        // Never read: held so that the session, and the lock with it, lives as long as the process.
        readonly NpgsqlConnection _connection;

        RunLock(string key, NpgsqlConnection connection) => (Key, _connection) = (key, connection);

        public string Key { get; }

        public static RunLock Take()
        {
            var key = Environment.GetEnvironmentVariable("ORCHESTRATOR_TEST_RUN") is { Length: 8 } run && run.All(char.IsAsciiHexDigitLower)
                ? run
                : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            // Pooling off: this session is the lock, and no pool may hand it to anyone else or close it when idle.
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServices.Postgres) { Pooling = false }.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("select pg_advisory_lock_shared(@class, @key)", connection);
            command.Parameters.AddWithValue("class", LockClass);
            command.Parameters.AddWithValue("key", unchecked((int)Convert.ToUInt32(key, 16)));
            command.ExecuteNonQuery();
            return new RunLock(key, connection);
        }
    }
}
