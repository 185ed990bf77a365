using System.Net;
using System.Net.Sockets;

namespace Orchestrator.TestSupport.Qemu;

/// <summary>
/// A TCP relay between a source QEMU and its destination that keeps every byte it passes on: the source is told to
/// migrate to <see cref="Uri"/>, and each connection it opens (the main stream, multifd's channels) is forwarded to the
/// destination's address and recorded, both directions apart. What a man in the middle of the link would see.
/// </summary>
public sealed class StreamRecorder : IAsyncDisposable
{
    /// <summary>The 16 bytes the test guest writes into every page of its working set.</summary>
    public static readonly byte[] GuestMarker = "SECRET-GUEST-MEM"u8.ToArray();

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly IPEndPoint _destination;
    readonly CancellationTokenSource _stop = new();
    readonly List<Connection> _connections = [];
    readonly List<Task> _pumps = [];
    readonly List<TcpClient> _clients = [];
    readonly Task _accepting;

    /// <summary>One connection as the relay saw it: what the source sent, and what the destination answered.</summary>
    public sealed record Connection(MemoryStream FromSource, MemoryStream FromDestination);

    public StreamRecorder(string destinationUri)
    {
        // tcp:HOST:PORT, as TargetPrepared reports it.
        var parts = destinationUri.Split(':');
        _destination = new IPEndPoint(IPAddress.Parse(parts[1]), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
        _listener.Start();
        Uri = $"tcp:127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = Accept();
    }

    /// <summary>Where the source is told to send the VM.</summary>
    public string Uri { get; }

    /// <summary>The connections so far, in the order they came; read them after the migration ended.</summary>
    public IReadOnlyList<Connection> Connections
    {
        get { lock (_connections) return [.. _connections]; }
    }

    /// <summary>How many times <paramref name="marker"/> occurs in everything the source sent.</summary>
    public int Occurrences(byte[] marker) => Connections.Sum(c => Count(Bytes(c.FromSource), marker));

    /// <summary>The connections whose first bytes from the source are a TLS handshake record (type 22, version 3.x: a ClientHello).</summary>
    public int TlsHandshakes => Connections.Count(c => Bytes(c.FromSource) is [0x16, 0x03, ..]);

    /// <summary>The connections whose first bytes from the source are QEMU's plain stream (<c>QEVM</c>, the migration file's magic).</summary>
    public int PlainQemuStreams => Connections.Count(c => Bytes(c.FromSource) is [(byte)'Q', (byte)'E', (byte)'V', (byte)'M', ..]);

    static byte[] Bytes(MemoryStream record)
    {
        lock (record)
            return record.ToArray();
    }

    /// <summary>Every byte the source sent, over all connections.</summary>
    public long BytesFromSource => Connections.Sum(c => Bytes(c.FromSource).LongLength);

    static int Count(ReadOnlySpan<byte> data, ReadOnlySpan<byte> marker)
    {
        var count = 0;
        for (var at = data.IndexOf(marker); at >= 0; at = data.IndexOf(marker))
        {
            count++;
            data = data[(at + marker.Length)..];
        }
        return count;
    }

    async Task Accept()
    {
        try
        {
            while (true)
            {
                var source = await _listener.AcceptTcpClientAsync(_stop.Token);
                var destination = new TcpClient();
                await destination.ConnectAsync(_destination, _stop.Token);
                var connection = new Connection(new MemoryStream(), new MemoryStream());
                lock (_connections)
                {
                    _connections.Add(connection);
                    _clients.AddRange([source, destination]);
                    _pumps.Add(Pump(source, destination, connection.FromSource));
                    _pumps.Add(Pump(destination, source, connection.FromDestination));
                }
            }
        }
        catch (Exception)
        {
            // The listener stopped (the relay is disposed), or the destination cannot be reached: the source's
            // connection attempt fails as it would on a cut link.
        }
    }

    /// <summary>
    /// Copies one direction, recording it, until its sender closes it (or it breaks); then passes the end on, and leaves
    /// the other direction to finish by itself: QEMU's destination may still be reading what the source sent last.
    /// </summary>
    async Task Pump(TcpClient from, TcpClient to, MemoryStream record)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var input = from.GetStream();
            var output = to.GetStream();
            while (await input.ReadAsync(buffer, _stop.Token) is var read && read > 0)
            {
                lock (record)
                    record.Write(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // The other side went away, or the relay stops.
        }
        try
        {
            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Takes no more connections and lets those open finish by themselves first: a source reports its migration completed
    /// when it has sent the last bytes, which the destination may still be reading (a relay cut there would fail it).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        Task[] pumps;
        lock (_connections)
            pumps = [.. _pumps];
        try
        {
            await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // A connection left open: cut below.
        }
        await _stop.CancelAsync();
        await _accepting;
        await Task.WhenAll(pumps);
        lock (_connections)
            foreach (var client in _clients)
                client.Dispose();
        _stop.Dispose();
    }
}
