using Orchestrator.Api;

namespace Orchestrator.Tests;

/// <summary>The start of an id as an operator types it, put in the form PostgreSQL writes a uuid in, or refused.</summary>
public sealed class When_an_id_prefix_is_read
{
    [Theory]
    [InlineData("055b", "055b")]
    [InlineData("055B0000", "055b0000")]
    [InlineData("055b0000-", "055b0000")]
    [InlineData("055b00009a1c", "055b0000-9a1c")]
    [InlineData("055b0000-9a1c-4", "055b0000-9a1c-4")]
    [InlineData("055b00009a1c4e2f8d3a0123456789ab", "055b0000-9a1c-4e2f-8d3a-0123456789ab")]
    public void Should_put_it_in_the_canonical_form(string typed, string canonical) => IdPrefix.Canonical(typed).ShouldBe(canonical);

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("xyz")]
    [InlineData("05-5b")]
    [InlineData("055b0000--9a")]
    [InlineData("055b%")]
    [InlineData("055b_")]
    [InlineData("055b00009a1c4e2f8d3a0123456789ab0")]
    public void Should_refuse_what_is_not_the_start_of_an_id(string typed) => IdPrefix.Canonical(typed).ShouldBeNull();
}
