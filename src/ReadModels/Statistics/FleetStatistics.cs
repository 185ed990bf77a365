namespace Orchestrator.ReadModels.Statistics;

/// <summary>
/// What the fleet's migrations came to, within the filters: how many ended in each state, and the downtime and time
/// per GiB of the completed ones per hypervisor and strategy.
/// </summary>
/// <param name="States">Migrations per state; the terminal states are the outcomes, the others are under way.</param>
/// <param name="Completed">One line per hypervisor and strategy, per hypervisor (strategy null), per strategy (hypervisor null) and for all (both null).</param>
public sealed record FleetStatistics(
    StatisticsFilter Filter,
    int Migrations,
    IReadOnlyDictionary<string, int> States,
    IReadOnlyList<CompletedStatistics> Completed);
