namespace Orchestrator.Workflows.Intake;

/// <summary>A public command's body broke a rule of <see cref="PublicCommandBody"/>; the message says which.</summary>
public sealed class PublicBodyRefusedException(string message) : Exception(message);
