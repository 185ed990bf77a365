using System.Globalization;
using System.Numerics;

namespace Orchestrator.ReadModels.Audit;

/// <summary>
/// A double as ECMAScript's Number.prototype.toString writes it (ECMA-262, Number::toString), which RFC 8785 uses:
/// the shortest digits that round-trip, in plain notation from 1e-6 up to 1e21, else as <c>d.ddde±n</c>.
/// </summary>
public static class EcmaNumber
{
    public static string Format(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "JSON has no NaN or Infinity (RFC 8785 3.2.2.3).");
        if (value == 0)
            return "0";
        // .NET's "R" gives the shortest round-tripping digits; only their layout differs from ECMAScript's.
        var (negative, digits, exponent) = Decompose(value.ToString("R", CultureInfo.InvariantCulture));
        var k = digits.Length;
        var n = exponent + k; // value = 0.digits × 10^n
        string text;
        if (k <= n && n <= 21)
            text = digits + new string('0', n - k);
        else if (0 < n && n <= 21)
            text = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0)
            text = "0." + new string('0', -n) + digits;
        else
        {
            var e = n - 1;
            var mantissa = k == 1 ? digits : digits[..1] + "." + digits[1..];
            text = mantissa + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }
        return negative ? "-" + text : text;
    }

    /// <summary>Whether two JSON number texts denote the same decimal value (4.50 and 4.5 do; 1e30 and 1E+30 do).</summary>
    public static bool SameValue(string a, string b)
    {
        var (na, da, ea) = Decompose(a);
        var (nb, db, eb) = Decompose(b);
        if (da.Length == 0 || db.Length == 0)
            return da.Length == db.Length;
        return na == nb && da == db && ea == eb;
    }

    /// <summary>A number text as sign, significant digits (no leading or trailing zeros) and the exponent of the last digit.</summary>
    static (bool Negative, string Digits, BigInteger Exponent) DecomposeBig(string text)
    {
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        var e = body.IndexOfAny(['e', 'E']);
        var exponent = e < 0 ? BigInteger.Zero : BigInteger.Parse(body[(e + 1)..].TrimStart('+'), CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? body : body[..e];
        var point = mantissa.IndexOf('.');
        if (point >= 0)
        {
            exponent -= mantissa.Length - point - 1;
            mantissa = mantissa.Remove(point, 1);
        }
        var digits = mantissa.TrimStart('0');
        var trimmed = digits.TrimEnd('0');
        exponent += digits.Length - trimmed.Length;
        return (negative && trimmed.Length > 0, trimmed, exponent);
    }

    static (bool Negative, string Digits, int Exponent) Decompose(string text)
    {
        var (negative, digits, exponent) = DecomposeBig(text);
        return (negative, digits, exponent > int.MaxValue / 2 ? int.MaxValue / 2 : exponent < int.MinValue / 2 ? int.MinValue / 2 : (int)exponent);
    }
}
