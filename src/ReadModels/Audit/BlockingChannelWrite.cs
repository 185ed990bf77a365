using System.Threading.Channels;

namespace Orchestrator.ReadModels.Audit;

/// <summary>A write to a bounded channel from a thread of its own (a reader that reads synchronously), waiting for room.</summary>
public static class BlockingChannelWrite
{
    /// <summary>
    /// Writes <paramref name="item"/>, blocking while the channel is full. A channel its reader completed with an error
    /// throws that error; one completed without throws <see cref="ChannelClosedException"/>.
    /// </summary>
    public static void WriteBlocking<T>(this ChannelWriter<T> writer, T item, CancellationToken cancellationToken)
    {
        while (!writer.TryWrite(item))
            if (!writer.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                throw new ChannelClosedException();
    }
}
