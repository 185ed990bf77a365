using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Cli;

/// <summary>
/// Rows of text as a terminal shows them (a table with borders and coloured states) or, when standard output is not a
/// terminal, as plain lines: one row a line, columns aligned by spaces, never wrapped or cut, whatever the width.
/// </summary>
public static class Tables
{
    /// <summary>Standard output goes to a file or a pipe: plain lines, nothing drawn.</summary>
    public static bool Piped => Console.IsOutputRedirected;

    /// <summary>
    /// Writes the rows; <paramref name="stateColumn"/> is coloured as a state on a terminal. The last column (a reason)
    /// may wrap within the table; a table that does not fit the terminal even so is written as plain lines: the terminal
    /// folds a long line, but no cell is split into a column of fragments and an id stays whole.
    /// </summary>
    public static void Write(IReadOnlyList<string> headers, IEnumerable<string?[]> rows, int stateColumn = -1)
    {
        var all = rows.ToList();
        var narrowest = Table(headers, all.Select(row => row.Select((cell, i) => i == row.Length - 1 && cell?.Length > LastColumnAtLeast ? cell[..LastColumnAtLeast] : cell).ToArray()));
        if (!Piped && NaturalWidth(narrowest) <= AnsiConsole.Profile.Width)
            AnsiConsole.Write(Table(headers, all, stateColumn));
        else
            WritePlain([[.. headers.Select(h => h.ToUpperInvariant())], .. all]);
    }

    const int LastColumnAtLeast = 24;

    static int NaturalWidth(IRenderable table) =>
        table.Measure(RenderOptions.Create(AnsiConsole.Console, AnsiConsole.Profile.Capabilities), int.MaxValue).Max;

    public static Table Table(IReadOnlyList<string> headers, IEnumerable<string?[]> rows, int stateColumn = -1)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns([.. headers]);
        // An id is copied whole from the screen: its column is never wrapped, the others give way.
        foreach (var column in table.Columns.Where((_, i) => headers[i] == "Migration"))
            column.NoWrap = true;
        foreach (var row in rows)
            table.AddRow(row.Select((cell, i) => i == stateColumn && cell is not null
                ? (IRenderable)new Markup(Render.StateMarkup(Markup.Escape(cell)))
                : new Text(cell ?? "-")));
        return table;
    }

    /// <summary>Name and value pairs: a grid on a terminal, aligned lines otherwise.</summary>
    public static void WritePairs(IEnumerable<(string Name, string? Value)> pairs)
    {
        if (Piped)
        {
            WritePlain(pairs.Select(p => new[] { p.Name, p.Value }));
            return;
        }
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (name, value) in pairs)
            grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value ?? "-"));
        AnsiConsole.Write(grid);
    }

    /// <summary>One row a line; every column but the last padded to its widest cell; a missing value is '-'.</summary>
    public static void WritePlain(IEnumerable<string?[]> rows)
    {
        var cells = rows.Select(row => row.Select(OneLine).ToArray()).ToList();
        var columns = cells.Count == 0 ? 0 : cells.Max(row => row.Length);
        var widths = Enumerable.Range(0, columns).Select(i => cells.Max(row => i < row.Length ? row[i].Length : 0)).ToArray();
        foreach (var row in cells)
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>A cell on one line: no line breaks or tabs inside it, '-' when empty.</summary>
    static string OneLine(string? cell) =>
        string.IsNullOrEmpty(cell) ? "-" : string.Concat(cell.Select(c => char.IsControl(c) ? ' ' : c));
}
