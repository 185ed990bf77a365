using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Api;

/// <summary>What the serve role adds for its HTTP API: authentication by API key, roles, problem details, OpenAPI.</summary>
public static class ApiHosting
{
    public static IServiceCollection AddOrchestratorApi(this IServiceCollection services)
    {
        // A client's name is the principal of its commands (their requestedBy): held to the same rules, at start-up.
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section)
            .Validate(api => api.Clients.All(client => OperatorCommandRules.RequestedByProblem(client.Name) is null),
                $"Api:Clients: a client's Name is recorded as requestedBy: at most {InputRules.RequestedByMaxLength} characters, and {InputRules.TextRule}.")
            .ValidateOnStart();
        services.AddOptions<AttentionOptions>().BindConfiguration(AttentionOptions.Section);
        services.AddOptions<Workflows.Scheduling.HostLinkOptions>().BindConfiguration(Workflows.Scheduling.HostLinkOptions.Section);
        services.AddOptions<Workflows.Admission.AdmissionOptions>().BindConfiguration(Workflows.Admission.AdmissionOptions.Section);
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiRoles.CommandsPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Service))
            .AddPolicy(ApiRoles.ReadPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer))
            .AddPolicy(ApiRoles.OperatorsOnlyPolicy, policy => policy.RequireRole(ApiRoles.Operator))
            .AddPolicy(ApiRoles.HistoryPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Auditor, ApiRoles.Service));
        // Commands are stored before they are answered (see CommandOutbox).
        services.AddSingleton<CommandOutbox>();
        // Kestrel and the body binding answer 413 and 415 themselves; the problem says which rule the body broke.
        // In the AMQP intake's words (PublicBodyReading), with what HTTP takes instead.
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context => context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status413PayloadTooLarge => BadRequestExceptionHandler.TooLarge(context.HttpContext.Request),
            StatusCodes.Status415UnsupportedMediaType => BadRequestExceptionHandler.NotJson(context.HttpContext.Request),
            _ => null,
        });
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<StoreUnavailableExceptionHandler>();
        // Let body-binding failures reach BadRequestExceptionHandler, which says what was wrong with the body.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        // A body is at most what the AMQP intake takes (PublicCommandBody): a larger one is a 413.
        services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = PublicCommandBody.MaxBodyBytes);
        // A body is read by the AMQP intake's rules (PublicBodyReading): unknown members refused, not ignored (a typo in a
        // field name must not silently fall back to a default), numbers as JSON numbers ("300" is refused), each member once.
        services.ConfigureHttpJsonOptions(json =>
        {
            PublicBodyReading.Apply(json.SerializerOptions);
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        services.AddOrchestratorOpenApi();
        return services;
    }

    public static WebApplication UseOrchestratorApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().RequireAuthorization(ApiRoles.ReadPolicy);
        app.MapHealthApi();
        app.MapMigrationApi();
        app.MapDrainApi();
        app.MapFleetApi();
        app.MapDeadLetterApi();
        app.MapDashboard();
        app.MapContractDocuments();
        return app;
    }
}
