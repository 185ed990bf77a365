using System.CommandLine;
using Orchestrator.Api;

namespace Orchestrator.Cli;

/// <summary>
/// An id as an operator types it: the whole id, or the start of one that only one migration's (or drain's) id starts
/// with, resolved through the API (<c>GET /api/migrations?id=PREFIX</c>, <c>GET /api/drains?id=PREFIX</c>).
/// </summary>
public static class Ids
{
    public static Argument<string> Argument(string description = "The migration id, or a prefix of it that only one migration's id starts with.") =>
        new("id") { Description = description };

    public static Argument<string?> OptionalArgument(string description) =>
        new("id") { Description = description, Arity = ArgumentArity.ZeroOrOne };

    /// <summary>The whole id: at once for a whole id; for a prefix, the one migration whose id starts with it.</summary>
    public static async Task<Guid> Migration(OrchestratorApiClient api, string text, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(text, out var whole))
            return whole;
        var prefix = Prefix(text, "migration", "orchestrator list");
        var page = await api.Get($"/api/migrations?id={Uri.EscapeDataString(prefix)}&pageSize=3", cancellationToken);
        var ids = page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()).ToList();
        return One(prefix, ids, page.GetProperty("total").GetInt32(), "migration", "orchestrator list");
    }

    /// <summary>The whole drain id: at once for a whole id; for a prefix, the one drain whose id starts with it.</summary>
    public static async Task<Guid> Drain(OrchestratorApiClient api, string text, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(text, out var whole))
            return whole;
        var prefix = Prefix(text, "drain", "orchestrator drain");
        var drains = await api.Get($"/api/drains?id={Uri.EscapeDataString(prefix)}", cancellationToken);
        var ids = drains.EnumerateArray().Select(drain => drain.GetProperty("drainId").GetGuid()).ToList();
        return One(prefix, [.. ids.Take(3)], ids.Count, "drain", "orchestrator drain");
    }

    static string Prefix(string text, string what, string shownBy) => IdPrefix.Canonical(text)
        ?? throw new CliError(ExitCodes.Usage, $"'{text}' is not a {what} id or the start of one (hex digits, as '{shownBy}' shows them).");

    static Guid One(string prefix, IReadOnlyList<Guid> ids, int total, string what, string shownBy) => total switch
    {
        0 => throw new CliError(ExitCodes.NotFound, $"No {what}'s id starts with '{prefix}': '{shownBy}' shows the ids."),
        1 => ids[0],
        _ => throw new CliError(ExitCodes.Usage,
            $"'{prefix}' is ambiguous: {total} {what}s' ids start with it ({string.Join(", ", ids)}{(total > ids.Count ? ", …" : "")}); type more of the id."),
    };
}
