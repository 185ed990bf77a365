using Orchestrator.ReadModels.Migrations;

namespace Orchestrator.Api;

/// <summary>One page of migrations, newest first.</summary>
public sealed record MigrationPage(IReadOnlyList<MigrationSummary> Items, int Page, int PageSize, int Total);
