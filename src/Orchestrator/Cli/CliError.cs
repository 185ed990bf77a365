namespace Orchestrator.Cli;

/// <summary>A command that cannot go on: the message says what happened and what to do; the exit code tells a script.</summary>
public sealed class CliError(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
