using Orchestrator.Contracts;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// The free-text rules (<see cref="InputRules"/>) for the commands that act on a running migration; the AMQP intake and
/// the HTTP API refuse with the same words.
/// </summary>
public static class OperatorCommandRules
{
    public static string? Problem(CancelMigration command) =>
        InputRules.TextProblem(nameof(CancelMigration.Reason), command.Reason, InputRules.ReasonMaxLength)
        ?? RequestedByProblem(command.RequestedBy);

    public static string? Problem(ForceCompleteMigration command) => RequestedByProblem(command.RequestedBy);

    public static string? Problem(RecoverMigration command) => RequestedByProblem(command.RequestedBy);

    public static string? RequestedByProblem(string? requestedBy) =>
        InputRules.TextProblem("RequestedBy", requestedBy, InputRules.RequestedByMaxLength);
}
