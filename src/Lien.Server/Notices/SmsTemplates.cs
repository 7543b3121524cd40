using System.Globalization;
using System.Text.RegularExpressions;
using Lien.Protocol;
using Lien.Server.Leases;

namespace Lien.Server.Notices;

/// <summary>What a notice's SMS says in: the placeholders' values, each already formatted.</summary>
internal sealed record NoticeValues(string Lender, string Amount, string Reference, string ShortCode, string SupportPhone, string Date, string Deadline)
{
    /// <summary>
    /// The values of a notice: the amount in the plan's currency ("KES 1,450"), the dates in the lender's time zone and in
    /// ISO 8601 (<c>{date}</c> 2026-03-12, <c>{deadline}</c> 2026-03-12 18:00), which read the same in every language.
    /// </summary>
    public static NoticeValues Of(string lender, string? shortCode, string? supportPhone, string reference, long amount, string currency,
        DateTimeOffset? deadline, TimeZoneInfo zone)
    {
        var local = deadline is { } d ? TimeZoneInfo.ConvertTime(d, zone) : (DateTimeOffset?)null;
        // A deadline at local midnight is the end of the day before (the policy's "end of the due date"): the borrower reads
        // that day, and 23:59, not the next day at 00:00.
        if (local is { } at && at.TimeOfDay == TimeSpan.Zero) local = at.AddSeconds(-1);
        return new NoticeValues(lender, new Money(amount, currency).ToString(), reference, Or(shortCode), Or(supportPhone),
            local?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-",
            local?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-");
    }

    private static string Or(string? s) => string.IsNullOrWhiteSpace(s) ? "-" : s;
}

/// <summary>
/// The SMS texts of notices, per language and kind (<see cref="NoticeKinds"/>): Lien's own in English and Swahili, which a
/// lender may override. Placeholders in braces: <c>{lender} {amount} {reference} {shortCode} {supportPhone} {date} {deadline}</c>.
/// Every default reminder fits one GSM-7 segment with a lender name of 24 characters and a 16-character reference.
/// </summary>
internal static partial class SmsTemplates
{
    public const string English = "en";
    public const string Swahili = "sw";
    public static readonly IReadOnlyList<string> Languages = [English, Swahili];
    public static readonly IReadOnlyList<string> Placeholders = ["lender", "amount", "reference", "shortCode", "supportPhone", "date", "deadline"];

    /// <summary>The kinds whose SMS must fit one segment: the reminders a borrower gets before anything is wrong.</summary>
    public static readonly IReadOnlyList<string> OneSegment = [NoticeKinds.Reminder, NoticeKinds.DueToday];

    public const int MaxLength = 480;

    private static readonly Dictionary<(string, string), string> Defaults = new()
    {
        [(English, NoticeKinds.Reminder)] = "{lender}: {amount} is due on {date}. Pay with account {reference} or dial {shortCode}. Help {supportPhone}",
        [(English, NoticeKinds.DueToday)] = "{lender}: {amount} is due today. Pay with account {reference} or dial {shortCode}. Help {supportPhone}",
        [(English, NoticeKinds.Overdue)] = "{lender}: {amount} is overdue. Pay now with account {reference} to keep using your phone. Dial {shortCode}. Help {supportPhone}",
        [(English, NoticeKinds.LockWarning)] = "{lender}: pay {amount} by {deadline} or this phone will lock. Account {reference}, dial {shortCode}. Help {supportPhone}",
        [(English, NoticeKinds.Locked)] = "{lender}: your phone is locked. Pay {amount} with account {reference} to unlock it. Dial {shortCode}. Help {supportPhone}",
        [(English, NoticeKinds.FirstNotice)] = "{lender}: {amount} is overdue. Please pay by {date} with account {reference}. Your phone will not be restricted before then. Help {supportPhone}",
        [(English, NoticeKinds.SecondNotice)] = "{lender}: second notice. {amount} is overdue. Pay by {date} with account {reference} or your phone may be restricted. Help {supportPhone}",
        [(English, NoticeKinds.Unlocked)] = "{lender}: payment received. Your phone is unlocked. Thank you.",
        [(English, NoticeKinds.PaidOff)] = "{lender}: your loan is paid off. Thank you! Your phone will be released from the lock.",
        [(English, NoticeKinds.Released)] = "{lender}: your phone is released and is yours for good. Thank you.",
        [(Swahili, NoticeKinds.Reminder)] = "{lender}: {amount} inadaiwa tarehe {date}. Lipa kwa akaunti {reference} au piga {shortCode}. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.DueToday)] = "{lender}: {amount} inadaiwa leo. Lipa kwa akaunti {reference} au piga {shortCode}. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.Overdue)] = "{lender}: {amount} imechelewa. Lipa sasa kwa akaunti {reference} ili uendelee kutumia simu yako. Piga {shortCode}. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.LockWarning)] = "{lender}: lipa {amount} kabla ya {deadline} la sivyo simu hii itafungwa. Akaunti {reference}, piga {shortCode}. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.Locked)] = "{lender}: simu yako imefungwa. Lipa {amount} kwa akaunti {reference} ili kuifungua. Piga {shortCode}. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.FirstNotice)] = "{lender}: {amount} imechelewa. Tafadhali lipa kabla ya {date} kwa akaunti {reference}. Simu yako haitazuiliwa kabla ya hapo. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.SecondNotice)] = "{lender}: taarifa ya pili. {amount} imechelewa. Lipa kabla ya {date} kwa akaunti {reference} la sivyo simu yako inaweza kuzuiliwa. Msaada {supportPhone}",
        [(Swahili, NoticeKinds.Unlocked)] = "{lender}: malipo yamepokelewa. Simu yako imefunguliwa. Asante.",
        [(Swahili, NoticeKinds.PaidOff)] = "{lender}: mkopo wako umelipwa wote. Asante! Simu yako itaachiliwa kutoka kwa kufuli.",
        [(Swahili, NoticeKinds.Released)] = "{lender}: simu yako imeachiliwa na ni yako kabisa. Asante.",
    };

    public static string Default(string language, string kind) => Defaults[(language, kind)];

    public static bool IsLanguage(string? language) => language is not null && Languages.Contains(language);

    /// <summary>The longest values a reminder must still fit one segment with (a lender's own name, phone and short code replace these).</summary>
    public static NoticeValues Sample(string? lender = null, string? shortCode = null, string? supportPhone = null) =>
        new(lender ?? "Mkopo Simu Finance Ltd 1", "KES 999,999.99", "LN-ABCDEFGH12345", shortCode ?? "*483*777#", supportPhone ?? "+254 800 723 000",
            "2026-12-31", "2026-12-31 18:00");

    public static string Render(string template, NoticeValues v) =>
        Placeholder().Replace(template, m => m.Groups[1].Value switch
        {
            "lender" => v.Lender,
            "amount" => v.Amount,
            "reference" => v.Reference,
            "shortCode" => v.ShortCode,
            "supportPhone" => v.SupportPhone,
            "date" => v.Date,
            "deadline" => v.Deadline,
            _ => m.Value,
        });

    /// <summary>What is wrong with a lender's template (unknown placeholders, stray braces), or null.</summary>
    public static string? Problem(string template)
    {
        var unknown = Placeholder().Matches(template).Select(m => m.Groups[1].Value).Where(p => !Placeholders.Contains(p)).Distinct().ToList();
        if (unknown.Count > 0)
            return $"text names {string.Join(", ", unknown.Select(u => "{" + u + "}"))}; the placeholders are {string.Join(" ", Placeholders.Select(p => "{" + p + "}"))}.";
        var rest = Placeholder().Replace(template, "");
        return rest.Contains('{') || rest.Contains('}') ? "text has a brace that opens or closes no placeholder." : null;
    }

    [GeneratedRegex(@"\{([A-Za-z]+)\}")]
    private static partial Regex Placeholder();
}
