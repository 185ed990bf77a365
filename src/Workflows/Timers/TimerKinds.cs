namespace Orchestrator.Workflows.Timers;

/// <summary>The timers a migration has: one for the step it waits on, one for pre-copy's completion.</summary>
public static class TimerKinds
{
    public const string Step = "step";
    public const string Completion = "completion";
}
