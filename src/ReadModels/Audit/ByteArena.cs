using System.Collections.Concurrent;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// Room for many short byte strings in a few chunks from a pool shared by several arenas, given back together
/// (<see cref="Return"/>) once none of them is used any more: rows read by the thousand without an array each, and the
/// same chunks written again batch after batch. A string longer than a chunk gets an array of its own.
/// </summary>
public sealed class ByteArena(ConcurrentQueue<byte[]> pool)
{
    const int ChunkSize = 64 * 1024;
    readonly List<byte[]> _rented = [];
    byte[]? _chunk;
    int _used;

    /// <summary>Where <paramref name="length"/> bytes may be written: an array and the offset in it.</summary>
    public (byte[] Array, int Offset) Take(int length)
    {
        if (length > ChunkSize)
            return (new byte[length], 0);
        if (_chunk is null || _chunk.Length - _used < length)
        {
            _chunk = pool.TryDequeue(out var free) ? free : new byte[ChunkSize];
            _rented.Add(_chunk);
            _used = 0;
        }
        var offset = _used;
        _used += length;
        return (_chunk, offset);
    }

    /// <summary>Gives the chunks back to the pool: nothing taken from this arena may be read afterwards.</summary>
    public void Return()
    {
        foreach (var chunk in _rented)
            pool.Enqueue(chunk);
        _rented.Clear();
        _chunk = null;
        _used = 0;
    }
}
