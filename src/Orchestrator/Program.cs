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
    return await CommandLine.Build().Parse(args).InvokeAsync();
}
catch (Exception exception)
{
    Log.Fatal(exception, "orchestrator stopped on an unexpected error");
    return 70;
}
finally
{
    await Log.CloseAndFlushAsync();
}
