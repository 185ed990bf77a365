using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Api;

/// <summary>What the serve role adds for its HTTP API: authentication by API key, roles, problem details, OpenAPI.</summary>
public static class ApiHosting
{
    public static IServiceCollection AddOrchestratorApi(this IServiceCollection services)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section);
        services.AddOptions<AttentionOptions>().BindConfiguration(AttentionOptions.Section);
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiRoles.CommandsPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Service))
            .AddPolicy(ApiRoles.ReadPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Service, ApiRoles.Auditor, ApiRoles.Viewer))
            .AddPolicy(ApiRoles.OperatorsOnlyPolicy, policy => policy.RequireRole(ApiRoles.Operator))
            .AddPolicy(ApiRoles.HistoryPolicy, policy => policy.RequireRole(ApiRoles.Operator, ApiRoles.Auditor, ApiRoles.Service));
        // Commands are stored before they are answered (see CommandOutbox).
        services.AddSingleton<CommandOutbox>();
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Let body-binding failures reach BadRequestExceptionHandler, which says what was wrong with the body.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        // Unknown members are refused, not ignored: a typo in a field name must not silently fall back to a default.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        services.AddOpenApi();
        return services;
    }

    public static WebApplication UseOrchestratorApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().RequireAuthorization(ApiRoles.ReadPolicy);
        app.MapMigrationApi();
        app.MapDrainApi();
        app.MapFleetApi();
        app.MapDeadLetterApi();
        return app;
    }
}
