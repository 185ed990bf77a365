using System.Diagnostics;
using System.Text;

namespace Orchestrator.Tests;

/// <summary>The real <c>orchestrator</c> executable as a child process, to be killed the way a crash kills it.</summary>
public sealed class OrchestratorProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    OrchestratorProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static OrchestratorProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        var result = new OrchestratorProcess(process);
        process.OutputDataReceived += (_, line) => result.Append(line.Data);
        process.ErrorDataReceived += (_, line) => result.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>Runs a command to its end: its exit code and everything it wrote (standard output and error, in order).</summary>
    public static async Task<(int ExitCode, string Output)> Run(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process._process.WaitForExitAsync(timeout.Token);
        // The exit can overtake the last lines of the asynchronous readers; WaitForExit() without a timeout drains them.
        process._process.WaitForExit();
        return (process._process.ExitCode, process.Output);
    }

    /// <summary>Waits until the process has ended by itself (within <paramref name="timeout"/>); its exit code.</summary>
    public async Task<int> Exited(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the process did not end within {timeout}:\n{(Output.Length > 4000 ? Output[^4000..] : Output)}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no flush, no goodbye — what a crash or an OOM kill does.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }
}
