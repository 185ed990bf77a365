namespace Orchestrator.Workers.Qemu;

/// <summary>QEMU answered a QMP command with an error (<c>{"error": {"class", "desc"}}</c>).</summary>
public sealed class QmpException(string command, string errorClass, string description)
    : Exception($"QMP {command} failed: {errorClass}: {description}")
{
    public string Command { get; } = command;

    public string ErrorClass { get; } = errorClass;

    public string Description { get; } = description;
}
