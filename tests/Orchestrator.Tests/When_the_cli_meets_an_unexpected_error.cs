using System.Net.Sockets;
using Npgsql;
using Orchestrator.Cli;

namespace Orchestrator.Tests;

/// <summary>The CLI's last word on any exception: an exit code a script can act on and one line that says what to do.</summary>
public sealed class When_the_cli_meets_an_unexpected_error
{
    [Fact]
    public void Should_say_postgresql_is_away_when_it_cannot_be_reached()
    {
        var (code, line) = Failures.Describe(new InvalidOperationException("Marten failed",
            new NpgsqlException("Failed to connect to 127.0.0.1:1", new SocketException((int)SocketError.ConnectionRefused))));

        code.ShouldBe(ExitCodes.Unreachable);
        line.ShouldContain("Cannot reach PostgreSQL");
        line.ShouldContain("ConnectionStrings__Postgres");
    }

    [Fact]
    public void Should_say_what_postgresql_refused()
    {
        var (code, line) = Failures.Describe(new AggregateException(new PostgresException("password authentication failed for user \"x\"", "FATAL", "FATAL", "28P01")));

        code.ShouldBe(ExitCodes.Unreachable);
        line.ShouldContain("password authentication failed");
        line.ShouldContain("28P01");
    }

    [Fact]
    public void Should_keep_the_exit_code_and_words_of_a_cli_error_wrapped_in_another()
    {
        Failures.Describe(new AggregateException(new CliError(ExitCodes.NotFound, "No migration x."))).ShouldBe((ExitCodes.NotFound, "No migration x."));
    }

    [Fact]
    public void Should_name_anything_else_by_its_type_and_innermost_cause_with_exit_70()
    {
        var (code, line) = Failures.Describe(new InvalidOperationException("outer", new FormatException("the real cause")));

        code.ShouldBe(ExitCodes.Internal);
        line.ShouldContain("InvalidOperationException");
        line.ShouldContain("the real cause");
        line.ShouldNotContain("outer");
    }
}
