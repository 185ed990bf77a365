using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Workers.Qemu;

/// <summary>
/// One long-lived QMP connection to one QEMU over its unix socket: the greeting, <c>qmp_capabilities</c>, then one
/// reader that hands replies to the command that waits for them (matched by <c>id</c>) and events to
/// <see cref="EventReceived"/>. Commands may be sent from several tasks at once; each has a timeout. When the
/// connection closes, every pending command fails with <see cref="QmpConnectionLostException"/> and
/// <see cref="Closed"/> completes.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    readonly Socket _socket;
    readonly NetworkStream _stream;
    readonly StreamReader _reader;
    readonly SemaphoreSlim _writeLock = new(1, 1);
    readonly ConcurrentDictionary<long, Pending> _pending = new();
    readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly CancellationTokenSource _stop = new();
    Task _readLoop = Task.CompletedTask;
    long _nextId;

    QmpClient(string socketPath, Socket socket)
    {
        SocketPath = socketPath;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public string SocketPath { get; }

    /// <summary>QEMU's version from the greeting (e.g. <c>7.2.22</c>).</summary>
    public string QemuVersion { get; private set; } = "";

    /// <summary>Every event, on the reader's task: handlers must be quick and must not throw.</summary>
    public event Action<QmpEvent>? EventReceived;

    /// <summary>Completes when the connection is gone, whoever closed it.</summary>
    public Task Closed => _closed.Task;

    public bool IsConnected => !_closed.Task.IsCompleted;

    /// <summary>Connects, reads the greeting and leaves capabilities negotiation mode; retries while the socket is not there yet.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(20, cancellationToken);
                continue;
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var client = new QmpClient(socketPath, socket);
            try
            {
                await client.HandshakeAsync(timeout, cancellationToken);
                return client;
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
        }
    }

    async Task HandshakeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var greeting = await _reader.ReadLineAsync(limit.Token) ?? throw new QmpConnectionLostException(SocketPath);
        using (var document = JsonDocument.Parse(greeting))
        {
            if (!document.RootElement.TryGetProperty("QMP", out var qmp))
                throw new InvalidDataException($"{SocketPath} is not a QMP socket: it greeted with {greeting}");
            var version = qmp.GetProperty("version").GetProperty("qemu");
            QemuVersion = $"{version.GetProperty("major")}.{version.GetProperty("minor")}.{version.GetProperty("micro")}";
        }
        _readLoop = Task.Run(ReadLoop, CancellationToken.None);
        await ExecuteAsync("qmp_capabilities", null, timeout, cancellationToken);
    }

    /// <summary>Runs a command and returns its <c>return</c> value; throws <see cref="QmpException"/> on an error reply.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, object? arguments = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var pending = new Pending(command);
        _pending[id] = pending;
        try
        {
            if (!IsConnected)
                throw new QmpConnectionLostException(SocketPath);
            var message = new JsonObject { ["execute"] = command, ["id"] = id };
            if (arguments is not null)
                message["arguments"] = arguments as JsonNode ?? JsonSerializer.SerializeToNode(arguments);
            var line = Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await _stream.WriteAsync(line, cancellationToken);
            }
            catch (IOException exception)
            {
                throw new QmpConnectionLostException(SocketPath, exception);
            }
            finally
            {
                _writeLock.Release();
            }

            return await pending.Reply.Task.WaitAsync(timeout ?? DefaultTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"QMP {command} on {SocketPath} got no answer within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>An HMP command through <c>human-monitor-command</c>; returns its text output.</summary>
    public async Task<string> HumanAsync(string commandLine, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync("human-monitor-command", new JsonObject { ["command-line"] = commandLine }, null, cancellationToken)).GetString() ?? "";

    async Task ReadLoop()
    {
        Exception? failure = null;
        try
        {
            while (await _reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                    continue;
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.TryGetProperty("event", out var name))
                {
                    var data = root.TryGetProperty("data", out var d) ? d.Clone() : default;
                    var timestamp = root.TryGetProperty("timestamp", out var t)
                        ? DateTimeOffset.FromUnixTimeMilliseconds(t.GetProperty("seconds").GetInt64() * 1000 + t.GetProperty("microseconds").GetInt64() / 1000)
                        : DateTimeOffset.UtcNow;
                    EventReceived?.Invoke(new QmpEvent(name.GetString()!, data, timestamp));
                    continue;
                }
                if (!root.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id) || !_pending.TryGetValue(id, out var pending))
                    continue;
                if (root.TryGetProperty("return", out var result))
                    pending.Reply.TrySetResult(result.Clone());
                else if (root.TryGetProperty("error", out var error))
                    pending.Reply.TrySetException(new QmpException(pending.Command,
                        error.TryGetProperty("class", out var c) ? c.GetString() ?? "" : "",
                        error.TryGetProperty("desc", out var desc) ? desc.GetString() ?? "" : ""));
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or JsonException or ObjectDisposedException)
        {
            failure = exception;
        }
        finally
        {
            _closed.TrySetResult();
            foreach (var pending in _pending.Values)
                pending.Reply.TrySetException(new QmpConnectionLostException(SocketPath, failure));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
        await _readLoop;
        await _stream.DisposeAsync();
        _reader.Dispose();
        _writeLock.Dispose();
        _stop.Dispose();
        _closed.TrySetResult();
    }

    sealed class Pending(string command)
    {
        public string Command { get; } = command;

        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
