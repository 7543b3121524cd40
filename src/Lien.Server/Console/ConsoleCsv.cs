using Lien.Server.Api;
using System.Globalization;
using System.Text;
using CsvHelper;
using Lien.Protocol;
using Lien.Server.Payments;
using Lien.Server.Reports;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Console;

/// <summary>
/// The console's CSV exports, made to open correctly in a spreadsheet: UTF-8 with a byte-order mark, a header row, ISO
/// 8601 dates (instants in UTC), amounts in major units (e.g. 1450.00) beside their currency, rates as fractions.
/// Every row is the signed-in user's lender's.
/// </summary>
internal sealed class ConsoleCsv(LienDb db, PortfolioReports reports, DeviceBook devices, TimeProvider time)
{
    public static readonly IReadOnlyList<string> Names = ["par", "collections", "payments", "devices", "notices"];

    public async Task<byte[]?> WriteAsync(string name, Guid lenderId, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), leaveOpen: true))
        await using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            switch (name)
            {
                case "par":
                {
                    var d = await reports.DashboardAsync(lenderId, ct);
                    Row(csv, "date", "currency", "outstanding", "at_risk_30", "at_risk_90", "par30", "par90");
                    foreach (var p in d.Par) Row(csv, Date(p.Date), d.Currency, Major(p.Outstanding, d.Currency), Major(p.AtRisk30, d.Currency), Major(p.AtRisk90, d.Currency), Rate(p.Par30), Rate(p.Par90));
                    break;
                }
                case "collections":
                {
                    var d = await reports.DashboardAsync(lenderId, ct);
                    Row(csv, "week_from", "week_to", "currency", "due", "collected", "rate");
                    foreach (var c in d.Collections) Row(csv, Date(c.WeekFrom), Date(c.WeekTo), d.Currency, Major(c.Due, d.Currency), Major(c.Collected, d.Currency), Rate(c.Rate));
                    break;
                }
                case "payments":
                {
                    Row(csv, "received_at", "recorded_at", "plan_reference", "kind", "amount", "currency", "provider", "transaction_id", "actor");
                    var rows = from p in db.Payments.AsNoTracking()
                               where p.LenderId == lenderId
                               join plan in db.Plans on p.PlanId equals plan.Id
                               orderby p.ReceivedAt
                               select new { p, plan.Reference };
                    await foreach (var r in rows.AsAsyncEnumerable().WithCancellation(ct))
                        Row(csv, Instant(r.p.ReceivedAt), Instant(r.p.RecordedAt), r.Reference, r.p.Kind == PaymentKind.Reversal ? "reversal" : "payment",
                            Major(r.p.Amount, r.p.Currency), r.p.Currency, r.p.Provider, r.p.ProviderTransactionId, r.p.Actor);
                    break;
                }
                case "devices":
                {
                    Row(csv, "imei", "make", "model", "state", "plan_reference", "borrower_phone", "days_past_due", "registered_at");
                    var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
                    var today = Policy.LocalDate(time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone));
                    for (var page = 1; ; page++)
                    {
                        var found = await devices.FindAsync(lenderId, today, null, null, null, page, ct);
                        foreach (var d in found.Rows)
                            Row(csv, d.Imei, d.Make ?? "", d.Model ?? "", d.State, d.PlanReference ?? "", d.Phone ?? "", d.DaysPastDue.ToString(CultureInfo.InvariantCulture), Instant(d.CreatedAt));
                        if (page * found.PageSize >= found.Total) break;
                    }
                    break;
                }
                case "notices":
                {
                    Row(csv, "created_at", "plan_reference", "kind", "language", "to", "status", "sent_at", "delivered_at", "segments");
                    var rows = from m in db.SmsMessages.AsNoTracking()
                               where m.LenderId == lenderId
                               join plan in db.Plans on m.PlanId equals plan.Id
                               orderby m.CreatedAt
                               select new { m, plan.Reference };
                    await foreach (var r in rows.AsAsyncEnumerable().WithCancellation(ct))
                        Row(csv, Instant(r.m.CreatedAt), r.Reference, r.m.Kind, r.m.Language, Phones.Masked(r.m.To), r.m.Status.ToString().ToLowerInvariant(),
                            r.m.SentAt is { } s ? Instant(s) : "", r.m.DeliveredAt is { } dl ? Instant(dl) : "", r.m.Segments.ToString(CultureInfo.InvariantCulture));
                    break;
                }
                default:
                    return null;
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Rows of an import's refused lines: line, imei, reason.</summary>
    public static byte[] Errors(IEnumerable<ImportRowError> errors)
    {
        var buffer = new MemoryStream();
        using (var writer = new StreamWriter(buffer, new UTF8Encoding(true), leaveOpen: true))
        using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            Row(csv, "line", "imei", "reason");
            foreach (var e in errors) Row(csv, e.Line.ToString(CultureInfo.InvariantCulture), e.Imei ?? "", e.Reason);
        }
        return buffer.ToArray();
    }

    private static void Row(CsvWriter csv, params string[] fields)
    {
        foreach (var f in fields) csv.WriteField(f);
        csv.NextRecord();
    }

    public static string Major(long minor, string currency)
    {
        var exponent = Currencies.Exponent(currency) ?? 2;
        return ((decimal)minor / (decimal)Math.Pow(10, exponent)).ToString("F" + exponent, CultureInfo.InvariantCulture);
    }

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    private static string Rate(decimal r) => r.ToString("0.0000", CultureInfo.InvariantCulture);
}
