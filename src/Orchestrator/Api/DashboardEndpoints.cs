using System.Reflection;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orchestrator.Contracts;
using Orchestrator.ReadModels.Drains;
using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Api;

/// <summary>
/// The operators' live dashboard: its page and scripts at <c>/ui/</c>, served from the executable itself (no CDN; the
/// chart library, Chart.js, is one of its resources), and what it reads beyond the API's other endpoints: the recent
/// drains, and <c>/api/stream</c>, Server-Sent Events that push every summary that changed (and, for one migration, its
/// new events) twice a second, so the page updates without a reload. The page signs in with an API key like any client.
/// </summary>
public static class DashboardEndpoints
{
    static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    static readonly Assembly Assets = typeof(DashboardEndpoints).Assembly;

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        // Routing ignores a trailing slash: "/ui" is sent to "/ui/" (where the page's relative links work), "/ui/" is the page.
        app.MapGet("/ui", (HttpContext context) => context.Request.Path.Value!.EndsWith('/') ? Asset(null) : Results.Redirect("/ui/"))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/ui/{*file}", Asset).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/api/stream", Stream).RequireAuthorization(ApiRoles.ReadPolicy).WithTags("Dashboard").WithName("streamChanges")
            .WithSummary("Server-Sent Events until the client goes: `event: summary` for every migration summary that changed, and with "
                + "migrationId `event: event` for each new event of that migration; a `: tick` comment twice a second.")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream");
        app.MapGet("/api/drains/recent", RecentDrains).RequireAuthorization(ApiRoles.ReadPolicy).WithTags("Drains").WithName("listRecentDrains")
            .WithSummary("The drains requested lately (limit, 1 to 100, default 20), newest first, each with its progress.")
            .Produces<List<DrainProgress>>();
    }

    static IResult Asset(string? file)
    {
        var name = string.IsNullOrEmpty(file) ? "index.html" : file;
        if (name.Contains("..", StringComparison.Ordinal) || Assets.GetManifestResourceStream($"ui/{name}") is not { } stream)
            return Results.NotFound();
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }

    /// <summary>The drains requested lately, newest first, each with its progress.</summary>
    static async Task<IResult> RecentDrains(IQuerySession session, int? limit, CancellationToken cancellationToken)
    {
        var requested = await session.Events.QueryRawEventDataOnly<HostDrainRequested>()
            .OrderByDescending(r => r.Timestamp).Take(Math.Clamp(limit ?? 20, 1, 100)).ToListAsync(cancellationToken);
        var drains = new List<DrainProgress>();
        foreach (var drain in requested)
        {
            if (await DrainProgress.Load(session, drain.DrainId, cancellationToken) is { } progress)
                drains.Add(progress);
        }
        return Results.Ok(drains);
    }

    /// <summary>
    /// <c>event: summary</c> for every migration whose summary changed since the last tick, and with
    /// <paramref name="migrationId"/> <c>event: event</c> for each new event of its stream, until the client goes.
    /// </summary>
    static async Task Stream(HttpContext context, IDocumentStore store, Guid? migrationId)
    {
        var cancellationToken = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var since = DateTimeOffset.UtcNow.AddSeconds(-2);
        // The summaries already sent whose time is `since` (the query takes >= since, not to miss one written in the
        // same microsecond as the last): each is sent again only when it changed.
        var sentAtSince = new Dictionary<Guid, long>();
        long version = 0;
        await context.Response.WriteAsync(": stream open\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        using var timer = new PeriodicTimer(Tick);
        try
        {
            do
            {
                await using var session = store.QuerySession();
                var changed = await session.Query<MigrationSummary>().Where(s => s.UpdatedAt >= since)
                    .OrderBy(s => s.UpdatedAt).Take(500).ToListAsync(cancellationToken);
                foreach (var summary in changed)
                {
                    if (summary.UpdatedAt == since && sentAtSince.GetValueOrDefault(summary.Id, -1) == summary.LastEventVersion)
                        continue;
                    await Send(context, "summary", summary, cancellationToken);
                }
                if (changed.Count > 0)
                {
                    if (changed[^1].UpdatedAt != since)
                        sentAtSince.Clear();
                    since = changed[^1].UpdatedAt;
                    foreach (var summary in changed.Where(s => s.UpdatedAt == since))
                        sentAtSince[summary.Id] = summary.LastEventVersion;
                }
                if (migrationId is { } id)
                {
                    var events = await session.Events.FetchStreamAsync(id, fromVersion: version + 1, token: cancellationToken);
                    foreach (var e in events)
                        await Send(context, "event", EventRecord.From(e), cancellationToken);
                    if (events.Count > 0)
                        version = events[^1].Version;
                }
                // A comment each tick: idle proxies keep the connection, and a client can count the ticks.
                await context.Response.WriteAsync(": tick\n\n", cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page went away.
        }
    }

    static async Task Send(HttpContext context, string kind, object data, CancellationToken cancellationToken) =>
        await context.Response.WriteAsync($"event: {kind}\ndata: {JsonSerializer.Serialize(data, JsonSerializerOptions.Web)}\n\n", cancellationToken);
}
