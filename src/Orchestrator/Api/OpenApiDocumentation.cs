using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Orchestrator.Api;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>, checked in as docs/openapi.json) says what the handlers really do: the
/// endpoints declare their bodies, answers and operationIds beside their mapping; what every protected operation shares
/// is added here: the API-key security scheme (<see cref="ApiKeyAuthenticationHandler"/>: <c>X-Api-Key</c> or a bearer
/// token), 401 and 403, 503 with Retry-After while PostgreSQL is away (<see cref="StoreUnavailableExceptionHandler"/>),
/// 400 for a query parameter that cannot be read and 413/415 for a body the API does not read. OpenAPI 3.0, which
/// every client generator reads; no <c>servers</c> (the document is the same whichever address serves it).
/// </summary>
public static class OpenApiDocumentation
{
    public const string ApiKeyScheme = "apiKey";
    public const string BearerScheme = "bearer";
    const string Problem = "application/problem+json";

    public static IServiceCollection AddOrchestratorOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Orchestrator API",
                    Version = "v1",
                    Description = "Live migrations of VMs: start, follow, cancel, recover; histories, audits, drains, fleet dashboards. "
                        + "Every /api operation needs an API key (X-Api-Key: <key>, or Authorization: Bearer <key>); a refusal is "
                        + "an RFC 9457 problem (application/problem+json) that says what was wrong. See docs/integrate.md.",
                };
                document.Servers = [];
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [ApiKeyScheme] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.ApiKey,
                        In = ParameterLocation.Header,
                        Name = ApiKeyAuthenticationHandler.HeaderName,
                        Description = "A client's key from Api:Clients (docs/operate.md); its roles decide what it may do.",
                    },
                    [BearerScheme] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.Http,
                        Scheme = "bearer",
                        Description = "The same key as a bearer token: Authorization: Bearer <key>.",
                    },
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
                    return Task.CompletedTask;
                var document = context.Document!;
                operation.Security = [.. new[] { ApiKeyScheme, BearerScheme }.Select(scheme => new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(scheme, document)] = [],
                })];
                operation.Responses ??= [];
                var readsQuery = context.Description.ParameterDescriptions.Any(p => p.Source.Id == "Query" && p.Type != typeof(string));
                if (readsQuery)
                    Add(operation, document, StatusCodes.Status400BadRequest, "A query parameter cannot be read (not a number, a GUID, a time).");
                if (operation.RequestBody is not null)
                {
                    Add(operation, document, StatusCodes.Status413PayloadTooLarge, "The body is larger than 65536 bytes, the most any command may be.");
                    Add(operation, document, StatusCodes.Status415UnsupportedMediaType, "The body is not sent as application/json.");
                }
                Add(operation, document, StatusCodes.Status401Unauthorized, "No API key, or one no client has.");
                Add(operation, document, StatusCodes.Status403Forbidden, "The client's roles do not allow this operation.");
                Add(operation, document, StatusCodes.Status503ServiceUnavailable,
                    "PostgreSQL cannot be reached: nothing was read or stored. Retry after the seconds Retry-After says (a command with the same id stays one).",
                    retryAfter: true);
                return Task.CompletedTask;
            });
        });

    static void Add(OpenApiOperation operation, OpenApiDocument document, int status, string description, bool retryAfter = false)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
            return;
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [Problem] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) } },
        };
        if (retryAfter)
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                },
            };
        operation.Responses[key] = response;
    }
}
