using Marten;
using Npgsql;

namespace Orchestrator.Workflows.Resilience;

/// <summary>
/// A batch PostgreSQL refused for its data (a NUL jsonb cannot store, a number out of range) can leave the pooled
/// connection it ran on out of step with Npgsql's auto-prepared statements: the next transaction on that connection reads
/// a row it did not expect ("Received unexpected backend message DataRow") and fails, whatever its message. So after such a
/// refusal every connection of the store's pool is replaced, idle ones now and busy ones when given back. Refusals are
/// rare (a poison message), and a few new connections cost far less than an unrelated migration's message set aside.
/// </summary>
public static class RefusedTransactions
{
    /// <summary>
    /// The database refused the statement itself: a server error that is neither an outage (retried) nor a conflict
    /// between deliveries (unique violation on an event version, serialization failure, deadlock: retried in turn).
    /// </summary>
    public static bool IsRefusedByTheDatabase(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException postgres)
                return !TransientFaults.IsTransient(postgres)
                    && postgres.SqlState is not (PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure
                        or PostgresErrorCodes.DeadlockDetected);
        }
        return false;
    }

    /// <summary>Replaces every pooled connection of the store's database.</summary>
    public static void DiscardConnections(IDocumentStore store)
    {
        if (store.Storage.Database is Weasel.Postgresql.PostgresqlDatabase database)
            database.DataSource.Clear();
    }
}
