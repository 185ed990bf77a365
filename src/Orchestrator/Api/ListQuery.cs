using Orchestrator.Contracts;
using Orchestrator.ReadModels.Migrations;
using Orchestrator.Workflows.Intake;

namespace Orchestrator.Api;

/// <summary>
/// The filters and paging of <c>GET /api/migrations</c>, checked before any query runs: a value out of range is a 400 that
/// names the parameter and the range, never a 500 from the database.
/// </summary>
public static class ListQuery
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>The last page that can be asked for (so that the offset, page × page size, stays well within range).</summary>
    public const int MaxPage = 1_000_000;

    public static Dictionary<string, string[]> Problems(string? id, string? state, string? host, string? vm, string? hypervisor, int? page, int? pageSize)
    {
        var problems = new Dictionary<string, string[]>();
        if (id is not null && IdPrefix.Canonical(id) is null)
            problems["id"] = [$"Id {InputRules.Show(id)} is not the start of a migration id; use 1 to 32 hex digits, dashes where a Guid has them."];
        if (state is not null && !MigrationStates.All.Contains(state))
            problems["state"] = [$"State {InputRules.Show(state)} is not a state; use one of: {string.Join(", ", MigrationStates.All)}."];
        if (host is not null && InputRules.NameProblem("Host", host) is { } hostProblem)
            problems["host"] = [hostProblem];
        if (vm is not null && InputRules.NameProblem("Vm", vm) is { } vmProblem)
            problems["vm"] = [vmProblem];
        if (hypervisor is not null && !HypervisorKinds.IsKnown(hypervisor))
            problems["hypervisor"] = [$"Hypervisor {InputRules.Show(hypervisor)} is unknown; known: {string.Join(", ", HypervisorKinds.All)}."];
        if (page is < 1 or > MaxPage)
            problems["page"] = [$"Page is {page}; it must be between 1 and {MaxPage}."];
        if (pageSize is < 1 or > MaxPageSize)
            problems["pageSize"] = [$"PageSize is {pageSize}; it must be between 1 and {MaxPageSize}."];
        return problems;
    }
}
