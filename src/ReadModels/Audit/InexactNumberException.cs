namespace Orchestrator.ReadModels.Audit;

/// <summary>A stored number that its canonical (double) form does not denote exactly: no hash can cover its text.</summary>
public sealed class InexactNumberException(string text, string canonical)
    : Exception($"the number {text} is not the value its canonical form {canonical} denotes")
{
    public string Text { get; } = text;
}
