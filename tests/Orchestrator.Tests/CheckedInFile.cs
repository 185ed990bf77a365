namespace Orchestrator.Tests;

/// <summary>
/// Files generated from the code and checked in (docs/openapi.json, the generated API client): a test compares what the
/// code gives now with the checked-in copy and fails on any difference; with <c>ORCHESTRATOR_WRITE_OPENAPI=1</c> it
/// writes the new copy instead (then commit it).
/// </summary>
public static class CheckedInFile
{
    public const string RewriteVariable = "ORCHESTRATOR_WRITE_OPENAPI";

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found above the test binaries");
    }

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(RepositoryRoot(), relativePath)).ReplaceLineEndings("\n");

    /// <summary>Fails when <paramref name="generated"/> differs from the checked-in file (or rewrites it, see above).</summary>
    public static void ShouldMatch(string relativePath, string generated)
    {
        generated = generated.ReplaceLineEndings("\n");
        var path = Path.Combine(RepositoryRoot(), relativePath);
        if (Environment.GetEnvironmentVariable(RewriteVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, generated);
            return;
        }
        File.Exists(path).ShouldBeTrue($"{relativePath} is not checked in: run the test with {RewriteVariable}=1 and commit it.");
        var checkedIn = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (checkedIn == generated)
            return;
        var lines = (Old: checkedIn.Split('\n'), New: generated.Split('\n'));
        var first = Enumerable.Range(0, Math.Max(lines.Old.Length, lines.New.Length))
            .First(i => i >= lines.Old.Length || i >= lines.New.Length || lines.Old[i] != lines.New[i]);
        string At(string[] text) => first < text.Length ? text[first] : "(end of file)";
        Assert.Fail($"{relativePath} differs from what the code generates now, first at line {first + 1}: checked in "
            + $"'{At(lines.Old)}', generated '{At(lines.New)}'. If the change is meant, run the test with {RewriteVariable}=1 and commit the file.");
    }
}
