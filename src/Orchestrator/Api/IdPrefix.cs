using System.Text;

namespace Orchestrator.Api;

/// <summary>
/// The start of an id as an operator types it (<c>055b0000-9a1c</c>, or <c>055b00009a1c</c> without the dashes): hex
/// digits, any case, in the order of the canonical form <c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>.
/// </summary>
public static class IdPrefix
{
    static readonly int[] DashesAfter = [8, 12, 16, 20];

    /// <summary>The prefix in canonical form (lower case, dashes where a Guid has them), or null when it is not the start of an id.</summary>
    public static string? Canonical(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        var digits = text.Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        if (digits.Length is 0 or > 32 || !digits.All(char.IsAsciiHexDigit))
            return null;
        var canonical = new StringBuilder(36);
        for (var i = 0; i < digits.Length; i++)
        {
            if (DashesAfter.Contains(i))
                canonical.Append('-');
            canonical.Append(digits[i]);
        }
        // Dashes are optional, but where typed they stand where a Guid has them ("055b0000-9a", not "05-5b").
        var typed = text.ToLowerInvariant();
        var result = canonical.ToString();
        return !typed.Contains('-') || typed == result || (typed == result + "-" && DashesAfter.Contains(digits.Length)) ? result : null;
    }
}
