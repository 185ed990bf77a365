using Orchestrator.Cli;

namespace Orchestrator.Tests;

/// <summary>
/// Bad usage and missing services, as a script meets them: exit 64 (or 7) and one line on standard error that says what
/// to do; nothing on standard output, never the whole help, never a stack trace. No server is needed.
/// </summary>
public sealed class When_an_operator_mistypes_a_command
{
    static readonly Dictionary<string, string> Nowhere = new()
    {
        ["ORCHESTRATOR_API"] = "http://127.0.0.1:1",
        ["ORCHESTRATOR_API_KEY"] = "x",
        ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=x;Password=x;Database=x;Timeout=3",
    };

    [Theory]
    [InlineData("list --state Bogus", "PreCopying, SwitchingOver")]
    [InlineData("list --state precopying", "use one of")]
    [InlineData("list --hypervisor vmware", "sim, qemu")]
    [InlineData("list --page 0", "--page 0")]
    [InlineData("list --page-size 501", "from 1 to 500")]
    [InlineData("list -o xml", "table, json")]
    [InlineData("migrate --vm a --from b --to c --strategy teleport", "precopy, postcopy, hybrid, auto")]
    [InlineData("stats --strategy teleport", "precopy, postcopy, hybrid, auto")]
    [InlineData("attention --stuck-after-seconds 0", "--stuck-after-seconds")]
    [InlineData("lsit", "'lsit'")]
    [InlineData("list --bogus", "'--bogus'")]
    [InlineData("show", "'id'")]
    [InlineData("show not-a-guid", "not a migration id")]
    [InlineData("show 05-5b", "not a migration id")]
    [InlineData("serve --api http://127.0.0.1:1", "'--api'")]
    [InlineData("", "command")]
    public async Task Should_exit_64_with_one_line_on_standard_error(string arguments, string said)
    {
        var result = await CliProcess.Run(Nowhere, arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Out.ShouldBeEmpty(result.ToString());
        result.ErrLines.Length.ShouldBe(1, result.ToString());
        result.Err.ShouldContain(said, Case.Sensitive, result.ToString());
    }

    [Fact]
    public async Task Should_say_in_one_line_that_the_api_cannot_be_reached()
    {
        foreach (var command in new[] { "attention", "hosts", "stats", "list", "show 055b0000" })
        {
            var result = await CliProcess.Run(Nowhere, command.Split(' '));

            result.ExitCode.ShouldBe(ExitCodes.Unreachable, result.ToString());
            result.ErrLines.ShouldHaveSingleItem(result.ToString()).ShouldContain("is 'orchestrator serve' running");
        }
    }

    [Fact]
    public async Task Should_say_in_one_line_that_postgresql_cannot_be_reached_with_no_stack_trace()
    {
        var result = await CliProcess.Run(Nowhere, "audit", "verify", "--all");

        result.ExitCode.ShouldBe(ExitCodes.Unreachable, result.ToString());
        result.ErrLines.ShouldHaveSingleItem(result.ToString()).ShouldContain("Cannot reach PostgreSQL");
        result.Err.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task Should_offer_api_only_on_the_commands_that_talk_to_the_api()
    {
        var list = await CliProcess.Run(Nowhere, "list", "--help");
        var attention = await CliProcess.Run(Nowhere, "attention", "--help");
        var serve = await CliProcess.Run(Nowhere, "serve", "--help");
        var audit = await CliProcess.Run(Nowhere, "audit", "verify", "--help");

        (list.ExitCode, attention.ExitCode, serve.ExitCode, audit.ExitCode).ShouldBe((0, 0, 0, 0));
        list.Out.ShouldContain("--api");
        attention.Out.ShouldContain("--api");
        serve.Out.ShouldNotContain("--api");
        audit.Out.ShouldNotContain("--api");
    }
}
