using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Attention;
using Orchestrator.ReadModels.Hosts;
using Orchestrator.ReadModels.Statistics;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Api;

/// <summary>
/// The operators' dashboards over HTTP: load per host, fleet statistics, the attention queue. Readable by every role.
/// Host load and the attention queue come from asynchronous projections and trail the events by the daemon's lag.
/// </summary>
public static class FleetEndpoints
{
    const int MaxStuckAfterSeconds = 7 * 24 * 3600;

    public static void MapFleetApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/hosts", Hosts).WithTags("Fleet").RequireAuthorization(ApiRoles.ReadPolicy).WithName("listHostLoads")
            .WithSummary("Active and queued migrations, in and out, per host.");
        app.MapGet("/api/hosts/{name}", Host).WithTags("Fleet").RequireAuthorization(ApiRoles.ReadPolicy).WithName("getHostLoad")
            .WithSummary("One host's load and the migrations that make it up.").ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/api/statistics", Statistics).WithTags("Fleet").RequireAuthorization(ApiRoles.ReadPolicy).WithName("getFleetStatistics")
            .WithSummary("Outcomes, downtime percentiles and time per GiB per hypervisor and strategy; filters: hypervisor, strategy, since, until (requested at).");
        app.MapGet("/api/attention", Attention).WithTags("Fleet").RequireAuthorization(ApiRoles.ReadPolicy).WithName("getAttentionQueue")
            .WithSummary("Failed migrations (VM lost, rollback failed, other), running ones without an event for longer than the stuck threshold, "
                + "and those a message of which was set aside as a dead letter lately.");
    }

    static async Task<Ok<IReadOnlyList<HostLoad>>> Hosts(IQuerySession session, CancellationToken cancellationToken) =>
        TypedResults.Ok(await session.Hosts(cancellationToken));

    static async Task<Results<Ok<HostLoad>, ProblemHttpResult, ValidationProblem>> Host(string name, IQuerySession session, CancellationToken cancellationToken) =>
        InputRules.NameProblem("Name", name) is { } problem
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [problem] }, title: "No host can have that name.")
            : await session.Host(name, cancellationToken) is { } load
            ? TypedResults.Ok(load)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such host.",
                detail: $"No migration from or to host '{name}' is known (host load trails the events by a moment).");

    static async Task<Results<Ok<FleetStatistics>, ValidationProblem>> Statistics(string? hypervisor, string? strategy, DateTimeOffset? since,
        DateTimeOffset? until, IDocumentStore store, CancellationToken cancellationToken)
    {
        var problems = new Dictionary<string, string[]>();
        if (hypervisor is not null && !HypervisorKinds.IsKnown(hypervisor))
            problems["hypervisor"] = [$"{InputRules.Show(hypervisor)} is not a hypervisor kind; use one of: {string.Join(", ", HypervisorKinds.All)}."];
        if (strategy is not null && !MigrationStrategies.IsKnown(strategy))
            problems["strategy"] = [$"{InputRules.Show(strategy)} is not a strategy; use one of: {string.Join(", ", MigrationStrategies.All)}."];
        if (since is not null && until is not null && since >= until)
            problems["until"] = ["until must be later than since."];
        if (problems.Count > 0)
            return TypedResults.ValidationProblem(problems, title: "The statistics cannot be filtered as asked.");
        return TypedResults.Ok(await store.Statistics(new StatisticsFilter(hypervisor, strategy, since, until), cancellationToken));
    }

    static async Task<Results<Ok<IReadOnlyList<AttentionEntry>>, ValidationProblem>> Attention(int? stuckAfterSeconds, IQuerySession session,
        IOptions<AttentionOptions> options, CancellationToken cancellationToken)
    {
        if (stuckAfterSeconds is < 1 or > MaxStuckAfterSeconds)
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["stuckAfterSeconds"] = [$"Must be between 1 and {MaxStuckAfterSeconds} (a week)."] },
                title: "The attention queue cannot be read as asked.");
        var stuckAfter = stuckAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : options.Value.StuckAfter;
        return TypedResults.Ok(await session.Attention(DateTimeOffset.UtcNow, stuckAfter, options.Value.DeadLettersFor, cancellationToken));
    }
}
