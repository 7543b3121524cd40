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

    public static async Task<(List<(int Line, RegisterDevice Row)> Rows, CsvRefusal? Refusal)> ReadAsync(Stream body, CancellationToken ct)
    {
        var rows = new List<(int, RegisterDevice)>();
        using var reader = new StreamReader(body);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = a => a.Header.Trim().ToLowerInvariant(),
            MissingFieldFound = null,
            BadDataFound = null,
            DetectDelimiter = true,
        });
        try
        {
            if (!await csv.ReadAsync()) return (rows, new CsvRefusal(400, "Empty CSV", "The CSV has no header row: expected imei, imei2, serial, make, model."));
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
        }
        catch (CsvHelperException e)
        {
            return (rows, new CsvRefusal(400, "Unreadable CSV", $"The CSV could not be read near line {e.Context?.Parser?.RawRow}: {e.Message.Split('\n')[0]}"));
        }
        return (rows, null);
    }

    private static string? Field(CsvReader csv, string name) => csv.TryGetField<string>(name, out var v) ? v?.Trim() : null;
}
