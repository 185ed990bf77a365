namespace Orchestrator.Workflows.Admission;

/// <summary>
/// How many migrations may run at once (configuration section <c>Admission</c>). Defaults after KubeVirt's
/// (2 outbound per node, 5 per cluster); inbound limited like outbound.
/// </summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    public int MaxOutboundPerHost { get; set; } = 2;

    public int MaxInboundPerHost { get; set; } = 2;

    public int MaxPerCluster { get; set; } = 5;
}
