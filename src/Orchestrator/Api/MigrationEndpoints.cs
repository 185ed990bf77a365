using System.Security.Claims;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Audit;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Intake;
using Orchestrator.Workflows.Migration;
using Orchestrator.Workflows.Outbox;
using Marten.Linq.MatchesSql;

namespace Orchestrator.Api;

/// <summary>
/// The HTTP API: commands go to the same queues as any other sender's, through the outbox (<see cref="CommandOutbox"/>:
/// answered once stored, even while the broker is away); queries read the projections and streams.
/// </summary>
public static class MigrationEndpoints
{
    static readonly string[] Cancellable = [MigrationStates.Queued, MigrationStates.Checking, MigrationStates.Preparing, MigrationStates.PreCopying];

    static readonly string[] NotRecoverable = [MigrationStates.Queued, MigrationStates.Checking, MigrationStates.Reconciling,
        MigrationStates.Completed, MigrationStates.RolledBack, MigrationStates.Cancelled, MigrationStates.Rejected];

    public static void MapMigrationApi(this IEndpointRouteBuilder app)
    {

        var api = app.MapGroup("/api/migrations").WithTags("Migrations");
        api.MapPost("/", Start).RequireAuthorization(ApiRoles.CommandsPolicy).WithName("startMigration")
            .WithSummary("Starts a migration: 202 once the command is stored (Location: the migration); the same migrationId again is the same migration.")
            .Produces<MigrationAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id:guid}/cancel", Cancel).RequireAuthorization(ApiRoles.CommandsPolicy).WithName("cancelMigration")
            .WithSummary("Cancels a migration that is Queued, Checking, Preparing or PreCopying; the body (a reason) is optional.")
            .Produces(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id:guid}/force-complete", ForceComplete).RequireAuthorization(ApiRoles.CommandsPolicy).WithName("forceCompleteMigration")
            .WithSummary("Ends pre-copy now: switches over with the downtime that takes. Only while PreCopying.")
            .Produces(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id:guid}/recover", Recover).RequireAuthorization(ApiRoles.OperatorsOnlyPolicy).WithName("recoverMigration")
            .WithSummary("Asks the hosts where the VM runs and drives the migration to the end that implies (operators only).")
            .Produces(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id:guid}/retry", Retry).RequireAuthorization(ApiRoles.CommandsPolicy).WithName("retryMigration")
            .WithSummary("Starts a new migration like one that ended without moving the VM (RolledBack, Cancelled, Rejected, Failed on its source).")
            .Produces<MigrationRetryAccepted>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/", List).RequireAuthorization(ApiRoles.ReadPolicy).WithName("listMigrations")
            .WithSummary("Migrations, newest first; filters: id (a prefix), state, host, vm, hypervisor, since, until (requested at); paged (page, pageSize).")
            .Produces<MigrationPage>().ProducesValidationProblem();
        api.MapGet("/{id:guid}", Get).RequireAuthorization(ApiRoles.ReadPolicy).WithName("getMigration")
            .WithSummary("One migration's summary; 404 until its command has reached the workflow.")
            .Produces<MigrationSummary>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/events", Events).RequireAuthorization(ApiRoles.HistoryPolicy).WithName("getMigrationEvents")
            .WithSummary("One migration's history: every event, oldest first, with its metadata.")
            .Produces<EventRecord[]>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/verify", Verify).RequireAuthorization(ApiRoles.HistoryPolicy).WithName("verifyMigration")
            .WithSummary("Checks one migration's hash chain: intact, or the first event that was altered.")
            .Produces<ChainVerdict>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/replay", Replay).RequireAuthorization(ApiRoles.HistoryPolicy).WithName("replayMigration")
            .WithSummary("The summary as it stood at a version (?version=N) or a moment (?at=…), rebuilt from the stream; 409 when the history was altered.")
            .Produces<MigrationSummary>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{id:guid}/export", ExportOne).RequireAuthorization(ApiRoles.HistoryPolicy).WithName("exportMigration")
            .WithSummary("One migration's history as NDJSON (one event per line, with its hashes), streamed.")
            .Produces<string>(StatusCodes.Status200OK, AuditNdjson).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/api/audit/export", (DateTimeOffset? since, DateTimeOffset? until, IDocumentStore store, HttpResponse response,
            CancellationToken cancellationToken) => Export(store, response, null, since, until, cancellationToken)).RequireAuthorization(ApiRoles.HistoryPolicy)
            .WithTags("Audit").WithName("exportAudit")
            .WithSummary("Every event (of migrations, drains, checkpoints) as NDJSON, streamed; filters: since, until (stored at).")
            .Produces<string>(StatusCodes.Status200OK, AuditNdjson);
    }

    const string AuditNdjson = "application/x-ndjson";

    static async Task<IResult> Start(StartMigrationRequest request, ClaimsPrincipal user, IQuerySession session, CommandOutbox commands,
        CancellationToken cancellationToken)
    {
        if (InputRules.SchemaVersionProblem(nameof(StartMigration), request.SchemaVersion,
                PublicContract.Command(typeof(StartMigration))!.SchemaVersion) is { } version)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["schemaVersion"] = [version] },
                title: "The migration cannot start as requested.");
        var command = request.ToCommand(request.MigrationId ?? NewId.NextGuid(), user.Identity!.Name!);
        var problems = StartMigrationValidator.ValidateFields(command);
        if (problems.Count > 0)
            return Results.ValidationProblem(problems, title: "The migration cannot start as requested.");
        if (await session.LoadAsync<VmLease>(command.VmId, cancellationToken) is { } lease && lease.MigrationId != command.MigrationId)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The VM is busy.",
                detail: $"VM '{command.VmId}' already has an active migration {lease.MigrationId}; wait for it to end or cancel it first.");

        await commands.Enqueue(QueueNames.StartMigration, command.MigrationId, command, cancellationToken);
        return Results.Accepted($"/api/migrations/{command.MigrationId}", new MigrationAccepted(command.MigrationId));
    }

    static async Task<IResult> Cancel(Guid id, CancelRequest? request, ClaimsPrincipal user, IQuerySession session, CommandOutbox commands,
        CancellationToken cancellationToken)
    {
        var command = new CancelMigration(id, request?.Reason, user.Identity!.Name);
        if (OperatorCommandRules.Problem(command) is { } problem)
            return Results.ValidationProblem(new Dictionary<string, string[]> { [problem.StartsWith("Reason", StringComparison.Ordinal) ? "reason" : "requestedBy"] = [problem] },
                title: "The migration cannot be cancelled as requested.");
        var summary = await session.Summary(id, cancellationToken);
        if (summary is null)
            return NotFound(id);
        if (!Cancellable.Contains(summary.State))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The migration cannot be cancelled now.",
                detail: summary.State == MigrationStates.PostCopying
                    ? "Post-copy has started: neither host alone holds the VM, so cancelling would lose it."
                    : $"The migration is {summary.State}; cancel applies to Queued, Checking, Preparing and PreCopying migrations.");

        await commands.Enqueue(QueueNames.CancelMigration, id, command, cancellationToken);
        return Results.Accepted($"/api/migrations/{id}");
    }

    static async Task<IResult> ForceComplete(Guid id, ClaimsPrincipal user, IQuerySession session, CommandOutbox commands,
        CancellationToken cancellationToken)
    {
        var summary = await session.Summary(id, cancellationToken);
        if (summary is null)
            return NotFound(id);
        if (summary.State != MigrationStates.PreCopying)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The migration cannot be force-completed now.",
                detail: $"The migration is {summary.State}; force-complete applies while pre-copy runs.");

        await commands.Enqueue(QueueNames.ForceCompleteMigration, id, new ForceCompleteMigration(id, user.Identity!.Name), cancellationToken);
        return Results.Accepted($"/api/migrations/{id}");
    }

    /// <summary>Asks the hosts where the VM runs and drives the migration to the end that truth implies.</summary>
    static async Task<IResult> Recover(Guid id, ClaimsPrincipal user, IQuerySession session, CommandOutbox commands,
        CancellationToken cancellationToken)
    {
        var summary = await session.Summary(id, cancellationToken);
        if (summary is null)
            return NotFound(id);
        if (NotRecoverable.Contains(summary.State))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The migration cannot be recovered now.",
                detail: summary.State switch
                {
                    MigrationStates.Queued or MigrationStates.Checking => $"The migration is {summary.State}: no host has been touched yet. Cancel it instead.",
                    MigrationStates.Reconciling => "A recovery is under way: wait for its verdict.",
                    _ => $"The migration ended {summary.State}: there is nothing to recover.",
                });

        await commands.Enqueue(QueueNames.RecoverMigration, id, new RecoverMigration(id, user.Identity!.Name), cancellationToken);
        return Results.Accepted($"/api/migrations/{id}");
    }

    /// <summary>
    /// Starts a new migration with the same VM, hosts, hypervisor, strategy and effective policy as one that ended without
    /// moving the VM. Refused while the VM's whereabouts are unknown (a Failed migration that does not say it runs on its source).
    /// </summary>
    static async Task<IResult> Retry(Guid id, ClaimsPrincipal user, IQuerySession session, CommandOutbox commands,
        CancellationToken cancellationToken)
    {
        var summary = await session.Summary(id, cancellationToken);
        if (summary is null)
            return NotFound(id);
        if (MigrationRetry.Refusal(summary) is { } refusal)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The migration cannot be retried.", detail: refusal);
        if (await session.LoadAsync<VmLease>(summary.VmId!, cancellationToken) is { } lease)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The VM is busy.",
                detail: $"VM '{summary.VmId}' already has an active migration {lease.MigrationId}; wait for it to end or cancel it first.");

        var command = MigrationRetry.Command(summary, NewId.NextGuid(), user.Identity!.Name!);
        await commands.Enqueue(QueueNames.StartMigration, command.MigrationId, command, cancellationToken);
        return Results.Accepted($"/api/migrations/{command.MigrationId}", new MigrationRetryAccepted(command.MigrationId, id));
    }

    static async Task<IResult> List(IQuerySession session, string? id, string? state, string? host, string? vm, string? hypervisor,
        DateTimeOffset? since, DateTimeOffset? until, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        if (ListQuery.Problems(id, state, host, vm, hypervisor, page, pageSize) is { Count: > 0 } problems)
            return Results.ValidationProblem(problems, title: "The migrations cannot be listed as asked.");
        var size = pageSize ?? ListQuery.DefaultPageSize;
        var number = page ?? 1;
        var query = session.Query<MigrationSummary>().AsQueryable();
        // An id prefix, for the CLI's short ids: the canonical text of the uuid column starts with it (hex and dashes only).
        if (IdPrefix.Canonical(id) is { } prefix)
            query = query.Where(s => s.MatchesSql("d.id::text like ?", prefix + "%"));
        if (state is not null)
            query = query.Where(s => s.State == state);
        if (host is not null)
            query = query.Where(s => s.SourceHost == host || s.TargetHost == host);
        if (vm is not null)
            query = query.Where(s => s.VmId == vm);
        if (hypervisor is not null)
            query = query.Where(s => s.Hypervisor == hypervisor);
        if (since is not null)
            query = query.Where(s => s.RequestedAt >= since);
        if (until is not null)
            query = query.Where(s => s.RequestedAt < until);

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(s => s.RequestedAt).Skip((int)Math.Min((number - 1L) * size, int.MaxValue)).Take(size).ToListAsync(cancellationToken);
        return Results.Ok(new MigrationPage(items, number, size, total));
    }

    static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken cancellationToken) =>
        await session.Summary(id, cancellationToken) is { } summary ? Results.Ok(summary) : NotFound(id);

    static async Task<IResult> Events(Guid id, IQuerySession session, CancellationToken cancellationToken)
    {
        var events = await session.History(id, cancellationToken);
        return events.Count == 0 ? NotFound(id) : Results.Ok(events.Select(EventRecord.From));
    }

    static async Task<IResult> Verify(Guid id, IDocumentStore store, CancellationToken cancellationToken)
    {
        var verdict = await ChainVerifier.Verify(store, id, cancellationToken);
        return verdict.Events == 0 ? NotFound(id) : Results.Ok(verdict);
    }

    /// <summary>The summary as it stood at a version (<c>?version=N</c>) or a moment (<c>?at=…</c>), rebuilt from the stream.</summary>
    static async Task<IResult> Replay(Guid id, long? version, DateTimeOffset? at, IQuerySession session, CancellationToken cancellationToken)
    {
        var stream = await session.Events.FetchStreamStateAsync(id, cancellationToken);
        if (stream is null)
            return NotFound(id);
        // A point outside the stream is a question that has no answer, not a migration that does not exist.
        if (version is < 1 || version > stream.Version)
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["version"] = [$"Version is {version}; migration {id} has versions 1 to {stream.Version}."],
            }, title: "The migration cannot be replayed as asked.");
        if (at is { } moment && moment < stream.Created)
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["at"] = [$"At is {moment:O}; migration {id} has events from {stream.Created:O} on."],
            }, title: "The migration cannot be replayed as asked.");
        try
        {
            return await MigrationReplay.AsOf(session, id, version, at, cancellationToken) is { } summary ? Results.Ok(summary) : NotFound(id);
        }
        catch (TamperedHistoryException tampered)
        {
            // Not a server fault: the stored history was altered, and the verdict says where.
            return Results.Problem(tampered.Message, statusCode: StatusCodes.Status409Conflict, title: "The history of this migration was altered.",
                extensions: new Dictionary<string, object?> { ["verdict"] = tampered.Verdict });
        }
    }

    /// <summary>One migration's history as NDJSON; a migration nobody knows is a 404, not an empty 200.</summary>
    static async Task<IResult> ExportOne(Guid id, IDocumentStore store, IQuerySession session, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await session.Events.FetchStreamStateAsync(id, cancellationToken) is null)
            return NotFound(id);
        await Export(store, response, id, null, null, cancellationToken);
        return Results.Empty;
    }

    static async Task Export(IDocumentStore store, HttpResponse response, Guid? id, DateTimeOffset? since, DateTimeOffset? until,
        CancellationToken cancellationToken)
    {
        response.ContentType = AuditNdjson;
        await using var writer = new StreamWriter(response.Body);
        await AuditExport.WriteNdjson(store, writer, id, since, until, cancellationToken);
    }

    static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such migration.", detail: $"No migration {id} is known.");
}
