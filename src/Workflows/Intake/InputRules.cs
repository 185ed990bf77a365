using System.Text;

namespace Orchestrator.Workflows.Intake;

/// <summary>
/// The one definition of what a public input may hold, applied at every entry (AMQP intake, HTTP, drains, CLI, named
/// policies, a worker's <c>--host</c>) with the same words. Names (hosts, VM ids, policy names) become parts of queue
/// names, routing keys and index keys, so they follow a DNS-label-like grammar; free text (who asked, why, labels) is
/// bounded and holds no control characters, bidirectional marks or unpaired surrogates. Nothing is trimmed or
/// corrected: a value that breaks a rule is refused, and the refusal names the member and the rule.
/// </summary>
public static class InputRules
{
    public const int NameMaxLength = 63;
    public const int RequestedByMaxLength = 256;
    public const int ReasonMaxLength = 1024;
    public const int LabelKeyMaxLength = 63;
    public const int LabelValueMaxLength = 256;
    public const int MaxLabels = 32;
    public const int MaxTargets = 64;

    /// <summary>How many characters of an offending value a refusal (or a stored rejection) shows.</summary>
    public const int ShownLength = 64;

    public const string NameRule =
        "a name is 1–63 characters of lowercase letters a–z, digits 0–9, '.', '_' and '-', starting with a letter or digit (no spaces; nothing is trimmed)";

    public const string TextRule = "free text holds no control characters, bidirectional marks or unpaired surrogates";

    public static bool IsName(string? value) =>
        value is { Length: > 0 and <= NameMaxLength } && IsNameStart(value[0]) && value.All(IsNameChar);

    /// <summary>What is wrong with a required name, in the words every entry uses; null when it is a name.</summary>
    public static string? NameProblem(string member, string? value) => value switch
    {
        null or "" => $"{member} is required: {NameRule}.",
        _ when IsName(value) => null,
        _ => $"{member} {Show(value)} is not a valid name: {NameRule}.",
    };

    /// <summary>What is wrong with an optional free-text member; null when it is fine (or absent).</summary>
    public static string? TextProblem(string member, string? value, int maxLength)
    {
        if (value is null)
            return null;
        if (value.Length > maxLength)
            return $"{member} is {value.Length} characters long; at most {maxLength} are allowed.";
        for (var i = 0; i < value.Length; i++)
        {
            if (Forbidden(value, i) is { } what)
                return $"{member} holds {what} at position {i}: {TextRule}.";
            if (char.IsHighSurrogate(value[i]))
                i++;
        }
        return null;
    }

    /// <summary>
    /// What is wrong with a command's <c>schemaVersion</c>, in the words both transports use; null when this release reads
    /// that version (a command without one is version <see cref="Contracts.PublicContract.DefaultSchemaVersion"/>).
    /// </summary>
    public static string? SchemaVersionProblem(string message, long? version, int supported) =>
        version is null || version == supported
            ? null
            : $"SchemaVersion {version} of {message} is not supported: this orchestrator reads version {supported} only. "
                + $"Send schemaVersion {supported} (or leave it out), as docs/asyncapi.json describes.";

    /// <summary>Problems with a VM's labels: how many, and each key and value as free text.</summary>
    public static IEnumerable<string> LabelProblems(string member, IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
            yield break;
        if (labels.Count > MaxLabels)
        {
            yield return $"{member} has {labels.Count} labels; at most {MaxLabels} are allowed.";
            yield break;
        }
        foreach (var (key, value) in labels)
        {
            if (key.Length == 0)
                yield return $"{member} has an empty key.";
            else if (TextProblem($"{member} key {Show(key)}", key, LabelKeyMaxLength) is { } keyProblem)
                yield return keyProblem;
            else if (TextProblem($"{member}[{key}]", value ?? string.Empty, LabelValueMaxLength) is { } valueProblem)
                yield return valueProblem;
        }
    }

    /// <summary>
    /// A value as a refusal shows it: quoted, at most <see cref="ShownLength"/> characters, every character a rule forbids
    /// written as its code point (<c>\u0000</c>), so a refusal never carries what it refuses.
    /// </summary>
    public static string Show(string? value)
    {
        if (value is null)
            return "(none)";
        var shown = new StringBuilder("'");
        var i = 0;
        for (; i < value.Length && shown.Length <= ShownLength; i++)
        {
            if (Forbidden(value, i) is not null)
                shown.Append($"\\u{(int)value[i]:X4}");
            else if (char.IsHighSurrogate(value[i]))
                shown.Append(value[i]).Append(value[++i]);
            else
                shown.Append(value[i]);
        }
        shown.Append('\'');
        if (i < value.Length)
            shown.Append($"… ({value.Length} characters)");
        return shown.ToString();
    }

    /// <summary>
    /// A value as a record of a refused command may keep it (a stored rejection, an event, a header): unchanged when it
    /// is short free text, else cut to <see cref="ShownLength"/> characters with every forbidden character replaced by
    /// U+FFFD, so no index key, header or JSON document receives what the rules refuse.
    /// </summary>
    public static string? Clip(string? value, int maxLength = ShownLength)
    {
        if (value is null || (value.Length <= maxLength && TextProblem("value", value, maxLength) is null))
            return value;
        var clipped = new StringBuilder();
        for (var i = 0; i < value.Length && clipped.Length < maxLength; i++)
        {
            if (Forbidden(value, i) is not null)
                clipped.Append('\uFFFD');
            else if (char.IsHighSurrogate(value[i]))
            {
                if (clipped.Length + 2 > maxLength)
                    break;
                clipped.Append(value[i]).Append(value[++i]);
            }
            else
                clipped.Append(value[i]);
        }
        return clipped.ToString();
    }

    static bool IsNameStart(char c) => c is >= 'a' and <= 'z' or >= '0' and <= '9';

    static bool IsNameChar(char c) => IsNameStart(c) || c is '.' or '_' or '-';

    /// <summary>Why the character at <paramref name="i"/> may not be in free text; null when it may.</summary>
    static string? Forbidden(string value, int i)
    {
        var c = value[i];
        if (char.IsControl(c))
            return $"a control character (U+{(int)c:X4})";
        if (c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069'))
            return $"a bidirectional mark (U+{(int)c:X4})";
        if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            return null;
        if (char.IsSurrogate(c))
            return $"an unpaired surrogate (U+{(int)c:X4})";
        return null;
    }
}
