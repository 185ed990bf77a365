using Microsoft.Extensions.Logging;

namespace Orchestrator.Workflows.Resilience;

/// <summary>
/// Logs a background loop's failures once per streak, not once per retry: the first as a warning, the rest at debug,
/// and the recovery with how long it took. A database outage of a minute is then three lines, not six hundred.
/// </summary>
public sealed class FaultStreak(ILogger logger, string activity)
{
    DateTime? _since;

    public void Failed(Exception exception)
    {
        if (_since is null)
        {
            _since = DateTime.UtcNow;
            logger.LogWarning(exception, "{Activity} failed; retrying until it works", activity);
        }
        else
        {
            logger.LogDebug(exception, "{Activity} failed again", activity);
        }
    }

    public void Succeeded()
    {
        if (_since is not { } since)
            return;
        _since = null;
        logger.LogInformation("{Activity} works again after {Seconds:0.0} s", activity, (DateTime.UtcNow - since).TotalSeconds);
    }
}
