using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orchestrator.Workflows.Persistence;

namespace Orchestrator.Telemetry;

/// <summary>
/// OpenTelemetry for a role's process: metrics on a Prometheus <c>/metrics</c> (the orchestrator's own meter, MassTransit's,
/// ASP.NET Core's), and traces across every bus hop (MassTransit's ActivitySource), ASP.NET Core and Npgsql, exported
/// over OTLP when an endpoint is configured (<c>OpenTelemetry:Otlp:Endpoint</c>, or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>); with none, no trace is collected at all.
/// </summary>
public static class TelemetrySetup
{
    public const string OtlpEndpointKey = "OpenTelemetry:Otlp:Endpoint";

    public static IServiceCollection AddOrchestratorTelemetry(this IServiceCollection services, IConfiguration configuration, string role)
    {
        var otlp = configuration[OtlpEndpointKey] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService($"orchestrator-{role}"))
            .WithMetrics(metrics => metrics
                .AddMeter(TransitionMetrics.MeterName, InstrumentationOptions.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(otlp))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(DiagnosticHeaders.DefaultListenerName)
                .AddAspNetCoreInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp)));
        }
        return services;
    }

    /// <summary><c>/metrics</c>, anonymous like the health endpoints: it names no migration, only counts.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
