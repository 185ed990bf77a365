using Orchestrator.Workflows.Intake;

namespace Orchestrator.Workflows.Tests;

public sealed class When_input_meets_the_rules
{
    [Theory]
    [InlineData("host-a")]
    [InlineData("h")]
    [InlineData("0host")]
    [InlineData("vm_42.prod-eu")]
    [InlineData("123456789012345678901234567890123456789012345678901234567890123")]
    public void Should_take_a_name_of_the_grammar(string name)
    {
        InputRules.IsName(name).ShouldBeTrue();
        InputRules.NameProblem("TargetHost", name).ShouldBeNull();
    }

    [Theory]
    [InlineData("host b")]
    [InlineData("hôst-b")]
    [InlineData("host-a/../x")]
    [InlineData("host-b#evil")]
    [InlineData("host-b?x")]
    [InlineData("host-a ")]
    [InlineData(" host-a")]
    [InlineData("Host-A")]
    [InlineData("-host")]
    [InlineData(".host")]
    [InlineData("host\0a")]
    [InlineData("1234567890123456789012345678901234567890123456789012345678901234")]
    public void Should_refuse_a_name_outside_the_grammar_naming_the_member_and_the_rule(string name)
    {
        var problem = InputRules.NameProblem("TargetHost", name);

        problem.ShouldNotBeNull();
        problem.ShouldStartWith("TargetHost ");
        problem.ShouldContain(InputRules.NameRule);
        problem.ShouldNotContain("\0");
    }

    [Fact]
    public void Should_say_a_missing_name_is_required() =>
        InputRules.NameProblem("VmId", null).ShouldBe($"VmId is required: {InputRules.NameRule}.");

    [Theory]
    [InlineData("ops\0team", "a control character (U+0000)")]
    [InlineData("ops\nteam", "a control character (U+000A)")]
    [InlineData("ops\u202Emaet", "a bidirectional mark (U+202E)")]
    [InlineData("ops\u2066team", "a bidirectional mark (U+2066)")]
    public void Should_refuse_free_text_with_characters_no_record_may_hold(string text, string what)
    {
        var problem = InputRules.TextProblem("RequestedBy", text, InputRules.RequestedByMaxLength);

        problem.ShouldNotBeNull();
        problem.ShouldStartWith($"RequestedBy holds {what}");
        problem.ShouldContain(InputRules.TextRule);
    }

    [Fact]
    public void Should_refuse_free_text_with_an_unpaired_surrogate()
    {
        // Built here, not in an attribute: attribute metadata cannot carry an unpaired surrogate.
        InputRules.TextProblem("Reason", "ops" + (char)0xD800 + "team", 100).ShouldNotBeNull().ShouldStartWith("Reason holds an unpaired surrogate (U+D800)");
        InputRules.TextProblem("Reason", "ops" + (char)0xDC00, 100).ShouldNotBeNull().ShouldStartWith("Reason holds an unpaired surrogate (U+DC00)");
    }

    [Theory]
    [InlineData("placement-service")]
    [InlineData("Équipe réseau 🚀 (on call)")]
    [InlineData("")]
    public void Should_take_ordinary_free_text(string text) =>
        InputRules.TextProblem("RequestedBy", text, InputRules.RequestedByMaxLength).ShouldBeNull();

    [Fact]
    public void Should_refuse_free_text_over_its_limit() =>
        InputRules.TextProblem("Reason", new string('x', InputRules.ReasonMaxLength + 1), InputRules.ReasonMaxLength)
            .ShouldBe($"Reason is {InputRules.ReasonMaxLength + 1} characters long; at most {InputRules.ReasonMaxLength} are allowed.");

    [Fact]
    public void Should_show_a_refused_value_short_and_without_what_it_refuses()
    {
        var shown = InputRules.Show("vm\0" + new string('x', 200_000));

        shown.Length.ShouldBeLessThan(120);
        shown.ShouldStartWith("'vm\\u0000xxx");
        shown.ShouldEndWith("(200003 characters)");
    }

    [Fact]
    public void Should_clip_what_a_rejection_keeps()
    {
        InputRules.Clip("vm-1").ShouldBe("vm-1");
        InputRules.Clip(null).ShouldBeNull();
        InputRules.Clip("vm\0x").ShouldBe("vm\uFFFDx");
        InputRules.Clip(new string('v', 3000))!.Length.ShouldBe(InputRules.ShownLength);
        InputRules.Clip(new string('a', 63) + "🚀").ShouldBe(new string('a', 63));
        InputRules.Clip("a\uD800b").ShouldBe("a\uFFFDb");
    }

    [Fact]
    public void Should_bound_labels_by_count_and_by_each_key_and_value()
    {
        InputRules.LabelProblems("VmLabels", new Dictionary<string, string> { ["tier"] = "batch" }).ShouldBeEmpty();
        InputRules.LabelProblems("VmLabels", Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", _ => "v"))
            .ShouldHaveSingleItem().ShouldContain("at most 32");
        InputRules.LabelProblems("VmLabels", new Dictionary<string, string> { ["tier"] = "bat\0ch" })
            .ShouldHaveSingleItem().ShouldStartWith("VmLabels[tier] holds a control character");
        InputRules.LabelProblems("VmLabels", new Dictionary<string, string> { [new string('k', 64)] = "v" })
            .ShouldHaveSingleItem().ShouldContain("at most 63");
    }
}
