using System.CommandLine;
using System.CommandLine.Invocation;
using Orchestrator.Cli;
using Serilog;
using Serilog.Events;

Log.Logger = new LoggerConfiguration()
    .MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
    .MinimumLevel.Override("MassTransit", LogEventLevel.Warning)
    .Enrich.FromLogContext()
    .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose,
        outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}")
    .CreateBootstrapLogger();

try
{
    Render.ForPipes();
    var parse = CommandLine.Build().Parse(args);
    // Bad usage: one line on standard error and 64, not the whole help on standard output and 1.
    if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
        return Failures.Usage(parse);
    // Exceptions come here, not to System.CommandLine's handler (which prints the stack trace).
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (OperationCanceledException)
{
    return 130;   // Ctrl-C, as a shell reports it
}
catch (Exception exception)
{
    return Failures.Report(exception);
}
finally
{
    await Log.CloseAndFlushAsync();
}
