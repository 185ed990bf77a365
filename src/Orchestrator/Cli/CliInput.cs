using Orchestrator.Workflows.Intake;

namespace Orchestrator.Cli;

/// <summary>The input rules (<see cref="InputRules"/>) for what an operator types: a bad name is bad usage (exit 64), said in the API's words.</summary>
static class CliInput
{
    public static string Name(string member, string? value) =>
        InputRules.NameProblem(member, value) is { } problem ? throw new CliError(ExitCodes.Usage, problem) : value!;

    public static string[] Names(string member, string[]? values) => [.. (values ?? []).Select(value => Name(member, value))];
}
