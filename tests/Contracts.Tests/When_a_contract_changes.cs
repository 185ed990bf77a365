using System.Text.Json.Nodes;

namespace Orchestrator.Contracts.Tests;

/// <summary>The compatibility rule of docs/integrate.md, on schemas changed by hand: it finds what breaks, and only that.</summary>
public sealed class When_a_contract_changes
{
    static JsonObject Completed() => ContractSchemas.For(typeof(MigrationCompleted), command: false);

    [Fact]
    public void Should_find_a_removed_member()
    {
        var changed = Completed();
        changed["properties"]!.AsObject().Remove("downtimeMs");
        changed["required"]!.AsArray().Remove(changed["required"]!.AsArray().Single(n => n!.GetValue<string>() == "downtimeMs"));

        ContractCompatibility.Breaks(Completed(), changed).ShouldBe(["member downtimeMs was removed"]);
    }

    [Fact]
    public void Should_find_a_retyped_member()
    {
        var changed = Completed();
        changed["properties"]!["downtimeMs"]!["type"] = "string";

        ContractCompatibility.Breaks(Completed(), changed).ShouldHaveSingleItem().ShouldStartWith("member downtimeMs changed its type");
    }

    [Fact]
    public void Should_find_a_retyped_member_of_a_nested_record()
    {
        var old = ContractSchemas.For(typeof(StartMigration), command: true);
        var changed = ContractSchemas.For(typeof(StartMigration), command: true);
        changed["properties"]!["policy"]!["oneOf"]![1]!["properties"]!["maxDowntimeMs"]!["type"] = "string";

        ContractCompatibility.Breaks(old, changed).ShouldHaveSingleItem().ShouldStartWith("member policy.maxDowntimeMs changed its type");
    }

    [Fact]
    public void Should_find_a_member_that_became_required()
    {
        var old = ContractSchemas.For(typeof(StartMigration), command: true);
        var changed = ContractSchemas.For(typeof(StartMigration), command: true);
        changed["required"]!.AsArray().Add("strategy");

        ContractCompatibility.Breaks(old, changed).ShouldBe(["member strategy became required"]);
    }

    [Fact]
    public void Should_let_an_optional_member_be_added()
    {
        var changed = Completed();
        changed["properties"]!["bytesMoved"] = new JsonObject { ["type"] = "integer", ["format"] = "int64", ["default"] = 0 };

        ContractCompatibility.Breaks(Completed(), changed).ShouldBeEmpty();
    }
}
