using System.Net.Sockets;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Workflows.Resilience;

/// <summary>
/// Faults that say the database or the broker is away for now, not that the message is wrong: they are waited out
/// (retried with backoff within the outage budget), never sent to an _error queue, which is for poison only.
/// </summary>
public static class TransientFaults
{
    static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);

    public static bool IsTransient(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Npgsql's own verdict: network errors, and server states such as shutting down, starting up, too many
                // connections, serialization failures and deadlocks.
                case NpgsqlException npgsql when npgsql.IsTransient:
                case ConnectionException { IsTransient: true }:
                case TransportUnavailableException or SocketException or TimeoutException:
                    return true;
                case PostgresException postgres when postgres.SqlState.StartsWith("08", StringComparison.Ordinal):
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Waits: 100 ms doubling to 5 s, then every 5 s, until the outage budget is spent. Configured outside a handler's
    /// own retries, so a transient fault restarts the whole attempt on a fresh session.
    /// </summary>
    public static void UseTransientFaultRetry(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        var budget = context.GetService<IOptions<ResilienceOptions>>()?.Value.OutageBudget ?? new ResilienceOptions().OutageBudget;
        endpoint.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(IsTransient);
            retry.Intervals(Waits(budget).ToArray());
        });
    }

    public static IEnumerable<TimeSpan> Waits(TimeSpan budget)
    {
        var spent = TimeSpan.Zero;
        var wait = TimeSpan.FromMilliseconds(100);
        while (spent < budget)
        {
            yield return wait;
            spent += wait;
            wait = wait * 2 < LongestWait ? wait * 2 : LongestWait;
        }
    }
}
