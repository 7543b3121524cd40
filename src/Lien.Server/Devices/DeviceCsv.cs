using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Lien.Server.Devices;

/// <summary>Why a CSV file was refused as a whole (nothing in it was stored).</summary>
internal sealed record CsvRefusal(int Status, string Title, string Detail);

/// <summary>
/// Devices to register, read from CSV (header row: imei, imei2, serial, make, model; any delimiter CsvHelper detects).
/// The API's import and the console's bulk import read files the same way; each row is validated later, by the registry.
/// </summary>
internal static class DeviceCsv
{
    public const int MaxRows = 10_000;

    /// <summary>A device row is under 250 characters; anything near this is not a device CSV.</summary>
    public const int MaxLineLength = 1024;

    /// <summary>The longest field: a serial, make or model is at most 64 (a quoted field may span lines, so this is its own bound).</summary>
    public const int MaxFieldLength = 256;

    public static async Task<(List<(int Line, RegisterDevice Row)> Rows, CsvRefusal? Refusal)> ReadAsync(Stream body, CancellationToken ct)
    {
        var rows = new List<(int, RegisterDevice)>();
        using var text = new BoundedLines(new StreamReader(body), MaxLineLength);
        using var csv = new CsvReader(text, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = a => a.Header.Trim().ToLowerInvariant(),
            MissingFieldFound = null,
            BadDataFound = null,
            DetectDelimiter = true,
            MaxFieldSize = MaxFieldLength,
        });
        try
        {
            var header = await csv.ReadAsync();
            if (text.Refusal is { } early) return (rows, early);
            if (!header) return (rows, new CsvRefusal(400, "Empty CSV", "The CSV has no header row: expected imei, imei2, serial, make, model."));
            csv.ReadHeader();
            if (!csv.HeaderRecord!.Any(h => h.Trim().Equals("imei", StringComparison.OrdinalIgnoreCase)))
                return (rows, new CsvRefusal(400, "No imei column", "The CSV header must name an imei column (and may name imei2, serial, make, model)."));
            while (await csv.ReadAsync())
            {
                ct.ThrowIfCancellationRequested();
                if (rows.Count == MaxRows)
                    return (rows, new CsvRefusal(413, "Too many rows", $"A request imports at most {MaxRows} rows; split the file. Nothing was stored."));
                rows.Add((csv.Parser.RawRow, new RegisterDevice(Field(csv, "imei"), Field(csv, "imei2"), Field(csv, "serial"), Field(csv, "make"), Field(csv, "model"))));
            }
            // The reader ends the text early when it refuses it; what was read before then is not a file.
            if (text.Refusal is { } refusal) return (rows, refusal);
        }
        catch (CsvHelperException e)
        {
            return (rows, text.Refusal ?? new CsvRefusal(400, "Unreadable CSV",
                $"The CSV could not be read near line {e.Context?.Parser?.RawRow}: {(e is MaxFieldSizeException ? $"a field is longer than {MaxFieldLength} characters" : e.Message.Split('\n')[0])}. Nothing was stored."));
        }
        return (rows, null);
    }

    private static string? Field(CsvReader csv, string name) => csv.TryGetField<string>(name, out var v) ? v?.Trim() : null;

    /// <summary>
    /// The text as CsvHelper reads it, refused at the first line longer than the limit or the first control character
    /// (a spreadsheet or a UTF-16 file sent as CSV) before the parser buffers it: a 25 MB header line costs the first
    /// kilobyte, not a parse of 25 MB into millions of header fields. A refused text reads as ended.
    /// </summary>
    private sealed class BoundedLines(TextReader inner, int maxLine) : TextReader
    {
        private int _line = 1;
        private int _column;

        public CsvRefusal? Refusal { get; private set; }

        public override int Peek() => Refusal is null ? inner.Peek() : -1;

        public override int Read()
        {
            Span<char> one = stackalloc char[1];
            return Read(one) == 1 ? one[0] : -1;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer) => Refusal is null ? Pass(buffer[..inner.Read(buffer)]) : 0;

        public override Task<int> ReadAsync(char[] buffer, int index, int count) => ReadAsync(buffer.AsMemory(index, count)).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken ct = default)
        {
            if (Refusal is not null) return 0;
            var n = await inner.ReadAsync(buffer, ct);
            return Pass(buffer.Span[..n]);
        }

        private int Pass(ReadOnlySpan<char> chars)
        {
            foreach (var c in chars)
            {
                if (c is '\n' or '\r')
                {
                    if (c == '\n') _line++;
                    _column = 0;
                    continue;
                }
                if (++_column > maxLine)
                    Refusal = new CsvRefusal(400, "Line too long",
                        $"Line {_line} of the CSV is longer than {maxLine} characters; a device row is far shorter. Nothing was stored.");
                else if (char.IsControl(c) && c != '\t')
                    Refusal = new CsvRefusal(400, "Not a text CSV",
                        $"Line {_line} of the CSV holds a control character (U+{(int)c:X4}): send the file as UTF-8 text, not a spreadsheet or UTF-16. Nothing was stored.");
                if (Refusal is not null) return 0;
            }
            return chars.Length;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
