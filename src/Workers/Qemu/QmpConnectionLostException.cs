namespace Orchestrator.Workers.Qemu;

/// <summary>The QMP connection closed (QEMU exited or was killed) before a command got its answer.</summary>
public sealed class QmpConnectionLostException(string socketPath, Exception? inner = null)
    : IOException($"The QMP connection to {socketPath} was lost: QEMU exited or closed it.", inner)
{
    public string SocketPath { get; } = socketPath;
}
