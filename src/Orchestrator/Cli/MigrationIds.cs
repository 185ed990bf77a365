using System.CommandLine;
using Orchestrator.Api;

namespace Orchestrator.Cli;

/// <summary>
/// A migration id as an operator types it: the whole id, or the start of one that only one migration's id starts with
/// (resolved through the API, <c>GET /api/migrations?id=PREFIX</c>).
/// </summary>
public static class MigrationIds
{
    public static Argument<string> Argument(string description = "The migration id, or a prefix of it that only one migration's id starts with.") =>
        new("id") { Description = description };

    public static Argument<string?> OptionalArgument(string description) =>
        new("id") { Description = description, Arity = ArgumentArity.ZeroOrOne };

    /// <summary>The whole id: at once for a whole id; for a prefix, the one migration whose id starts with it.</summary>
    public static async Task<Guid> Resolve(OrchestratorApiClient api, string text, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(text, out var whole))
            return whole;
        var prefix = IdPrefix.Canonical(text)
            ?? throw new CliError(ExitCodes.Usage, $"'{text}' is not a migration id or the start of one (hex digits, as 'orchestrator list' shows them).");
        var page = await api.Get($"/api/migrations?id={Uri.EscapeDataString(prefix)}&pageSize=3", cancellationToken);
        var ids = page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()).ToList();
        var total = page.GetProperty("total").GetInt32();
        return total switch
        {
            0 => throw new CliError(ExitCodes.NotFound, $"No migration's id starts with '{prefix}': 'orchestrator list' shows the ids."),
            1 => ids[0],
            _ => throw new CliError(ExitCodes.Usage,
                $"'{prefix}' is ambiguous: {total} migrations' ids start with it ({string.Join(", ", ids)}{(total > ids.Count ? ", …" : "")}); type more of the id."),
        };
    }
}
