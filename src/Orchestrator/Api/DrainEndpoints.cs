using System.Security.Claims;
using Marten;
using Marten.Linq.MatchesSql;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Workflows.Admission;
using Orchestrator.Workflows.Drain;
using Orchestrator.Workflows.Policy;
using Orchestrator.Workflows.Prediction;
using Orchestrator.Workflows.Scheduling;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Api;

/// <summary>The body of <c>POST /api/drains</c>.</summary>
public sealed record DrainRequest(string? Host, List<string>? Targets, string? Hypervisor = null, Guid? DrainId = null);

/// <summary>Host drains: start one (operators only), follow its progress.</summary>
public static class DrainEndpoints
{
    public static void MapDrainApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/drains").WithTags("Drains");
        api.MapPost("/", Start).RequireAuthorization(ApiRoles.OperatorsOnlyPolicy).WithName("startDrain")
            .WithSummary("Moves every VM off a host, to the targets named (operators only): 202 once the command is stored.")
            .Produces<DrainAccepted>(StatusCodes.Status202Accepted).ProducesValidationProblem();
        api.MapPost("/plan", Plan).RequireAuthorization(ApiRoles.OperatorsOnlyPolicy).WithName("planDrain")
            .WithSummary("What a drain would do, without starting anything: each VM's target, order, bandwidth, predicted start, end, downtime and ending (operators only).")
            .Produces<DrainPlanView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/", List).RequireAuthorization(ApiRoles.ReadPolicy).WithName("listDrains")
            .WithSummary("The drains asked for, newest first (at most 50); id: only those whose id starts with it.")
            .Produces<List<HostDrainRequested>>().ProducesValidationProblem();
        api.MapGet("/{id:guid}", Get).RequireAuthorization(ApiRoles.ReadPolicy).WithName("getDrain")
            .WithSummary("One drain and the progress of its migrations.")
            .Produces<DrainProgress>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>The drains asked for, newest first (at most 50); <c>id</c>: only those whose id starts with it, for the CLI's short ids.</summary>
    static async Task<IResult> List(string? id, IQuerySession session, CancellationToken cancellationToken)
    {
        var prefix = IdPrefix.Canonical(id);
        if (id is not null && prefix is null)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["Not the start of a drain id; use 1 to 32 hex digits, dashes where a Guid has them."] },
                title: "The drains cannot be listed as asked.");
        var requests = session.Events.QueryRawEventDataOnly<HostDrainRequested>().AsQueryable();
        if (prefix is not null)
            requests = requests.Where(r => r.MatchesSql("d.stream_id::text like ?", prefix + "%"));
        return Results.Ok(await requests.OrderByDescending(r => r.Timestamp).Take(50).ToListAsync(cancellationToken));
    }

    static async Task<IResult> Start(DrainRequest request, ClaimsPrincipal user, CommandOutbox commands, CancellationToken cancellationToken)
    {
        var command = new DrainHost(request.DrainId ?? NewId.NextGuid(), request.Host ?? string.Empty, request.Hypervisor ?? HypervisorKinds.Sim,
            request.Targets ?? [], user.Identity!.Name);
        if (DrainHostConsumer.Validate(command) is { } problem)
            return Results.ValidationProblem(new Dictionary<string, string[]> { [problem.Member] = [problem.Problem] },
                title: "The drain cannot start as requested.");

        await commands.Enqueue(QueueNames.DrainHost, command.DrainId, command, cancellationToken);
        return Results.Accepted($"/api/drains/{command.DrainId}", new DrainAccepted(command.DrainId));
    }

    /// <summary>
    /// Asks the workers what runs on the host and how much room the targets have, plans as the drain would, and forecasts
    /// each VM from its history (<see cref="VmBehaviourHistory"/>) over the host's uplink under the admission limits.
    /// </summary>
    static async Task<IResult> Plan(DrainRequest request, IQuerySession session, IClientFactory clients, ILogger<DrainPlanView> logger,
        IOptions<HostLinkOptions> links, IOptions<AdmissionOptions> admission, CancellationToken cancellationToken)
    {
        var command = new DrainHost(Guid.Empty, request.Host ?? string.Empty, request.Hypervisor ?? HypervisorKinds.Sim, request.Targets ?? []);
        if (DrainHostConsumer.Validate(command) is { } problem)
            return Results.ValidationProblem(new Dictionary<string, string[]> { [problem.Member] = [problem.Problem] },
                title: "The drain cannot be planned as requested.");

        var (source, trouble) = await HostDescriber.Describe(clients, logger, command.Hypervisor, command.Host, cancellationToken);
        if (source is null)
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The drained host's worker did not answer.",
                detail: $"{trouble}: nothing can be planned. Check the host's worker, then ask again.");
        var answers = await Task.WhenAll(command.Targets.Select(async target =>
            (Target: target, Answer: await HostDescriber.Describe(clients, logger, command.Hypervisor, target, cancellationToken))));
        var targets = answers.Where(a => a.Answer.Description is not null).Select(a => a.Answer.Description!).ToList();
        var unanswered = answers.Where(a => a.Answer.Description is null).Select(a => a.Target).ToList();
        var (moves, unmovable) = DrainPlanner.Plan(Guid.Empty, source, targets, unanswered);

        var forecast = await DrainForecaster.Forecast(session, command.Host, moves, links.Value, admission.Value, cancellationToken);
        var targetOf = moves.ToDictionary(m => m.VmId, m => m.TargetHost, StringComparer.Ordinal);
        return Results.Ok(new DrainPlanView(command.Host, forecast.LinkMiBps, forecast.MaxAtOnce, forecast.Scheduler, forecast.TotalSeconds,
            [.. forecast.Moves.Select(m => PlannedMigrationView.From(m, targetOf[m.VmId]))], unmovable, unanswered));
    }

    static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellationToken) =>
        await DrainProgress.Load(session, id, cancellationToken) is { } progress
            ? Results.Ok(progress)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such drain.", detail: $"No drain {id} is known (yet).");
}
