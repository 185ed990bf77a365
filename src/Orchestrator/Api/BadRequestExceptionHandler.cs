using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Api;

/// <summary>
/// A body that is not JSON, or carries a member the API does not know, gets an RFC 7807 answer that says what is wrong,
/// instead of an empty 400; a body too large is a 413, a body that is not JSON a 415.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
            return false;

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => $"The request body is larger than {PublicCommandBody.MaxBodyBytes} bytes.",
                    StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
                    _ => "The request body cannot be read.",
                },
                Detail = bad.InnerException?.Message ?? bad.Message,
            },
        });
    }
}
