namespace Orchestrator.Workflows.Persistence;

/// <summary>How saga transitions of different migrations share commits (configuration section <c>GroupCommit</c>; see <see cref="GroupCommitter"/>).</summary>
public sealed class GroupCommitOptions
{
    public const string Section = "GroupCommit";

    /// <summary>Off: every transition commits alone, in its own transaction.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many group commits may run at once; a transition that arrives while they all run joins the next group.</summary>
    public int Committers { get; set; } = 2;

    /// <summary>The most transitions one commit holds.</summary>
    public int MaxMembers { get; set; } = 32;
}
