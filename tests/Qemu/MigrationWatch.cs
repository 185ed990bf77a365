using Orchestrator.Workers.Qemu;

namespace Orchestrator.TestSupport.Qemu;

/// <summary>
/// A source QEMU's <c>MIGRATION</c> events, watched on one of its monitors: the moment post-copy started and the moment
/// the link broke (<c>postcopy-paused</c>), as QEMU itself reports them.
/// </summary>
public sealed class MigrationWatch
{
    readonly TaskCompletionSource _postCopyActive = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource _postCopyPaused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MigrationWatch(QmpClient monitor) =>
        monitor.EventReceived += e =>
        {
            var status = e.Name == "MIGRATION" ? e.Data.GetProperty("status").GetString() : null;
            if (status == "postcopy-active")
                _postCopyActive.TrySetResult();
            if (status == "postcopy-paused")
                _postCopyPaused.TrySetResult();
        };

    public Task PostCopyActive => _postCopyActive.Task;

    public Task PostCopyPaused => _postCopyPaused.Task;
}
