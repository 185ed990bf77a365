using System.CommandLine;
using System.Net.Sockets;
using Npgsql;

namespace Orchestrator.Cli;

/// <summary>
/// What the CLI says when it cannot go on: one line on standard error that says what to do, and an exit code from
/// <see cref="ExitCodes"/>. Never a stack trace: the executable's last word on any error goes through here.
/// </summary>
public static class Failures
{
    /// <summary>Bad usage: the parser's first complaint (they are one line each here) and where the help is.</summary>
    public static int Usage(ParseResult parse)
    {
        var command = string.Join(" ", Path(parse.CommandResult.Command).Prepend("orchestrator"));
        // A word the parser did not know says more than the command it then found missing ("orchestrator lsit").
        var error = parse.Errors.FirstOrDefault(e => parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? parse.Errors[0];
        var first = OneLine(error.Message);
        Console.Error.WriteLine($"{first}{(first.EndsWith('.') ? "" : ".")} See '{command} --help'.");
        return ExitCodes.Usage;
    }

    /// <summary>Any exception that reached the top: one line and its exit code.</summary>
    public static int Report(Exception exception)
    {
        var (code, line) = Describe(exception);
        Console.Error.WriteLine(OneLine(line));
        return code;
    }

    public static (int ExitCode, string Line) Describe(Exception exception)
    {
        var chain = Chain(exception).ToList();
        if (chain.OfType<CliError>().FirstOrDefault() is { } error)
            return (error.ExitCode, error.Message);
        if (chain.OfType<PostgresException>().FirstOrDefault() is { } postgres)
            return (ExitCodes.Unreachable, $"PostgreSQL refused: {postgres.MessageText} ({postgres.SqlState}). Check ConnectionStrings__Postgres (user, password, database).");
        if (chain.Any(e => e is NpgsqlException or SocketException || e is TimeoutException && chain.Any(n => n is NpgsqlException)))
            return (ExitCodes.Unreachable, $"Cannot reach PostgreSQL ({Innermost(chain).Message}): is it running? "
                + "Commands that read the event store directly use ConnectionStrings__Postgres.");
        if (chain.OfType<IOException>().FirstOrDefault() is { } io && io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            return (ExitCodes.Usage, $"{io.Message}: another process listens there; choose another with --urls.");
        return (ExitCodes.Internal, $"Unexpected error ({exception.GetType().Name}): {Innermost(chain).Message} Please report it with the command that caused it.");
    }

    static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0] : e.InnerException)
            yield return e;
    }

    static Exception Innermost(IReadOnlyList<Exception> chain) => chain[^1];

    static IEnumerable<string> Path(Command command)
    {
        var names = new List<string>();
        Symbol? symbol = command;
        while (symbol is Command current and not RootCommand)
        {
            names.Insert(0, current.Name);
            symbol = current.Parents.FirstOrDefault();
        }
        return names;
    }

    /// <summary>A message on one line: line breaks and tabs become single spaces.</summary>
    static string OneLine(string text) => string.Join(" ", text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
