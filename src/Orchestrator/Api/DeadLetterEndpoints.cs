using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orchestrator.Workflows.Outbox;

namespace Orchestrator.Api;

/// <summary>
/// Messages set aside after bounded attempts (commands the broker would not take, inputs whose transaction failed for
/// good), newest first, with their reason and time. Readable by every role; an input set aside is also in its queue's
/// _error queue.
/// </summary>
public static class DeadLetterEndpoints
{
    const int MaxPageSize = 500;
    const int MaxPage = 100_000;

    public static void MapDeadLetterApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/dead-letters", List).WithTags("Dead letters").RequireAuthorization(ApiRoles.ReadPolicy).WithName("listDeadLetters")
            .WithSummary("Messages set aside after bounded attempts, newest first; filters: migrationId; paged (page, pageSize).");
        app.MapGet("/api/dead-letters/{id:guid}", Get).WithTags("Dead letters").RequireAuthorization(ApiRoles.ReadPolicy).WithName("getDeadLetter")
            .WithSummary("One message set aside, with its body.").ProducesProblem(StatusCodes.Status404NotFound);
    }

    static async Task<Results<Ok<DeadLetterPage>, ValidationProblem>> List(Guid? migrationId, int? page, int? pageSize, IQuerySession session,
        CancellationToken cancellationToken)
    {
        var problems = new Dictionary<string, string[]>();
        if (page is < 1 or > MaxPage)
            problems["page"] = [$"Must be between 1 and {MaxPage}."];
        if (pageSize is < 1 or > MaxPageSize)
            problems["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
        if (problems.Count > 0)
            return TypedResults.ValidationProblem(problems, title: "The dead letters cannot be listed as asked.");
        var size = pageSize ?? 50;
        var number = page ?? 1;
        var query = session.Query<DeadLetter>().Where(l => migrationId == null || l.MigrationId == migrationId);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(l => l.SetAsideAt).Skip((number - 1) * size).Take(size).ToListAsync(cancellationToken);
        return TypedResults.Ok(new DeadLetterPage([.. items.Select(DeadLetterView.Of)], number, size, total));
    }

    static async Task<Results<Ok<DeadLetter>, ProblemHttpResult>> Get(Guid id, IQuerySession session, CancellationToken cancellationToken) =>
        await session.LoadAsync<DeadLetter>(id, cancellationToken) is { } letter
            ? TypedResults.Ok(letter)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such dead letter.",
                detail: $"No message {id} was set aside.");
}
