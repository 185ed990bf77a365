using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Orchestrator.Workflows.Resilience;

namespace Orchestrator.Api;

/// <summary>
/// While PostgreSQL is away nothing can be read or accepted: the request is answered 503 with Retry-After at once (as
/// soon as the connection is refused), instead of a 500 or a wait. A command answered 503 was not stored; sent again
/// with the same MigrationId it is still a single migration.
/// </summary>
public sealed class StoreUnavailableExceptionHandler(IProblemDetailsService problems, ILogger<StoreUnavailableExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!TransientFaults.IsTransient(exception))
            return false;

        logger.LogWarning("{Method} {Path} answered 503: the event store is unreachable ({Reason})", httpContext.Request.Method,
            httpContext.Request.Path, Innermost(exception).Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = $"{RetryAfterSeconds}";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The event store is unreachable.",
                Detail = $"PostgreSQL could not be reached ({Innermost(exception).Message}); nothing was stored. Retry after {RetryAfterSeconds} s; "
                    + "/health/ready answers 200 again once it is back.",
            },
        });
    }

    static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
            exception = exception.InnerException;
        return exception;
    }
}
