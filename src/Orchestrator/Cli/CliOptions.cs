using System.CommandLine;

namespace Orchestrator.Cli;

/// <summary>
/// Checks on what an operator types, made while the command line is parsed: a value outside its set or range is bad
/// usage (exit 64), said in one line that names what is allowed.
/// </summary>
static class CliOptions
{
    /// <summary>Only these values (case as written); the error lists them.</summary>
    public static Option<T> OneOf<T>(this Option<T> option, IEnumerable<string> allowed, string what)
    {
        var values = allowed.ToList();
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>() is string value && !values.Contains(value, StringComparer.Ordinal))
                result.AddError($"{option.Name} {value}: not {what}; use one of: {string.Join(", ", values)}.");
        });
        return option;
    }

    /// <summary>Only whole numbers from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<T> Within<T>(this Option<T> option, int min, int max)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>() is int value && (value < min || value > max))
                result.AddError($"{option.Name} {value}: must be from {min} to {max}.");
        });
        return option;
    }

    /// <summary>The output option every read command has: table (default) or json.</summary>
    public static Option<string> Output(string? json = null) =>
        new Option<string>("--output", "-o") { Description = $"table (default) or json{(json is null ? "" : $" ({json})")}.", DefaultValueFactory = _ => "table" }
            .OneOf(["table", "json"], "an output format");
}
