using System.Diagnostics;

namespace Orchestrator.Tests;

/// <summary>The infra/ scripts of the checkout these tests were built from, run to their end.</summary>
public static class InfraScripts
{
    public static async Task<string> Run(string script, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "infra", script)))
            directory = directory.Parent;
        var path = Path.Combine(directory?.FullName ?? throw new InvalidOperationException($"infra/{script} not found above the test binaries"), "infra", script);
        var start = new ProcessStartInfo(path, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.ShouldBe(0, $"infra/{script} {string.Join(' ', arguments)}: {await errors}");
        return await output;
    }
}
