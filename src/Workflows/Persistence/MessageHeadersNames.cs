namespace Orchestrator.Workflows.Persistence;

/// <summary>Names of the headers the orchestrator reads from messages and writes on events.</summary>
public static class MessageHeadersNames
{
    /// <summary>Who issued the command (a user, a service); carried into every event it causes.</summary>
    public const string Principal = "principal";

    /// <summary>The message type that caused an event.</summary>
    public const string MessageType = "message-type";
}
