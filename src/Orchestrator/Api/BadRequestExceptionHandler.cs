using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Orchestrator.Contracts;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Api;

/// <summary>
/// A body that is not JSON, or carries a member the API does not know, gets an RFC 9457 answer that says what is wrong,
/// instead of an empty 400: a body the JSON rules refuse is described in the words the AMQP intake uses for the same
/// body (<see cref="PublicBodyReading"/>), with the member in <c>errors</c>; a body too large is a 413, one not sent as
/// JSON a 415.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <summary>The command each request body carries, by the name senders know it by on both transports.</summary>
    static readonly Dictionary<Type, string> Commands = new()
    {
        [typeof(StartMigrationRequest)] = nameof(StartMigration),
        [typeof(CancelRequest)] = nameof(CancelMigration),
        [typeof(DrainRequest)] = nameof(DrainHost),
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
            return false;

        httpContext.Response.StatusCode = bad.StatusCode;
        // The exception handler runs with the endpoint cleared: the feature keeps the one that failed.
        var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
        var body = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var refusal = bad is { StatusCode: StatusCodes.Status400BadRequest, InnerException: JsonException json } && body is not null
            ? PublicBodyReading.Describe(json, body, Commands.GetValueOrDefault(body, body.Name))
            : null;
        var problem = new HttpValidationProblemDetails
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => $"The request body is larger than {PublicCommandBody.MaxBodyBytes} bytes.",
                StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
                _ => "The request body cannot be read.",
            },
            Detail = refusal?.Reason ?? bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => TooLarge(httpContext.Request),
                StatusCodes.Status415UnsupportedMediaType => NotJson(httpContext.Request),
                _ => bad.InnerException?.Message ?? bad.Message,
            },
        };
        if (refusal?.Member is { } member)
            problem.Errors[member] = [refusal.Reason];
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem });
    }

    /// <summary>A body over the limit, in the AMQP intake's words (its size from Content-Length when sent).</summary>
    public static string TooLarge(HttpRequest request) => PublicBodyReading.TooLarge(request.ContentLength);

    /// <summary>A body not sent as JSON, in the AMQP intake's words: its media type (without parameters), what HTTP takes.</summary>
    public static string NotJson(HttpRequest request) =>
        PublicBodyReading.NotJson(MediaTypeHeaderValue.TryParse(request.ContentType, out var type) ? type.MediaType.Value : request.ContentType,
            PublicCommandBody.PlainJson);
}
