using Lien.Server.Audit;
using Lien.Server.Leases;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Notices;

/// <summary>What became of a lender's template change.</summary>
internal sealed record TemplateView(string Language, string Kind, string Text, bool Overridden, SmsEncoding Encoding, int Segments);

/// <summary>
/// SMS notices: queued in the transaction of the review that decided them (<see cref="INoticeListener"/>), in the
/// borrower's language from the lender's template or Lien's; the lender's templates set and reset; the provider's
/// delivery reports recorded. Each change of a notice's fate is audited (<c>notice.sent</c>, <c>notice.failed</c>: the
/// webhooks of the same names).
/// </summary>
internal sealed class SmsNotices(LienDb db, ISmsSender sender, AuditTrail audit, TimeProvider time, IOptions<SmsOptions> options) : INoticeListener
{
    public const string Actor = "sms";

    private static readonly CompiledQuery<Func<LienDb, Guid, string, string, CancellationToken, Task<string?>>> TemplateOf = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, string language, string kind, CancellationToken ct) => db.NoticeTemplates.AsNoTracking()
            .Where(t => t.LenderId == lenderId && t.Language == language && t.Kind == kind).Select(t => t.Text).FirstOrDefault()));

    public async Task NoticeIssuedAsync(LienDb unit, NoticeIssued n, CancellationToken ct)
    {
        if (!sender.Configured || !NoticeKinds.All.Contains(n.Kind)) return;
        // The review's own unit of work holds the plan and lender already (tracked): Find takes them from it by key, with
        // no second read — and, unlike DbSet.Local, without scanning every tracked entity (a sweep's batch tracks hundreds).
        var plan = await unit.Plans.FindAsync([n.PlanId], ct);
        if (plan is null || plan.LenderId != n.LenderId || plan.BorrowerPhone is null) return;
        var lender = await unit.Lenders.FindAsync([n.LenderId], ct) ?? throw new InvalidOperationException($"Lender {n.LenderId} is gone.");
        var language = SmsTemplates.IsLanguage(plan.BorrowerLanguage) ? plan.BorrowerLanguage! : SmsTemplates.English;
        var template = await TemplateOf.For(unit)(unit, n.LenderId, language, n.Kind, ct) ?? SmsTemplates.Default(language, n.Kind);
        var text = SmsTemplates.Render(template, NoticeValues.Of(lender.Name, lender.ShortCode, lender.SupportPhone, plan.Reference, n.Amount,
            n.Currency, n.Deadline, TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone)));
        unit.SmsMessages.Add(Queued(n.LenderId, n.DeviceId, n.PlanId, plan.BorrowerPhone, n.Kind, language, text, n.LeaseSeq));
    }

    /// <summary>
    /// Queues an answer to a borrower (a keyword's reply, an unlock code asked for by USSD) in the outbox as a notice of
    /// <paramref name="kind"/>, in the caller's unit of work; false when no SMS account is configured (nothing queued).
    /// </summary>
    public bool QueueReply(Guid lenderId, Guid deviceId, Guid planId, string to, string kind, string language, string text)
    {
        if (!sender.Configured) return false;
        db.SmsMessages.Add(Queued(lenderId, deviceId, planId, to, kind, language, text, 0));
        return true;
    }

    // The outbox row of a message due now, measured in segments.
    private SmsMessage Queued(Guid lenderId, Guid deviceId, Guid planId, string to, string kind, string language, string text, long leaseSeq)
    {
        var length = SmsSegments.Measure(text);
        var now = time.GetUtcNow();
        return new SmsMessage
        {
            Id = Guid.CreateVersion7(now),
            LenderId = lenderId,
            DeviceId = deviceId,
            PlanId = planId,
            Kind = kind,
            Language = language,
            To = to,
            Text = text,
            Encoding = length.Encoding,
            Segments = length.Segments,
            LeaseSeq = leaseSeq,
            CreatedAt = now,
            Status = SmsStatus.Queued,
            DueAt = now,
            RetryUntil = now + options.Value.RetryFor,
        };
    }

    /// <summary>
    /// Sends one SMS now, once, to a number that belongs to no lender (an outbox row belongs to a lender's plan): the
    /// answer to a stranger's keyword, which says nothing about anyone.
    /// </summary>
    public async Task SendToStrangerAsync(string to, string text, CancellationToken ct)
    {
        if (sender.Configured) await sender.SendAsync(to, text, ct);
    }

    /// <summary>The lender's templates and Lien's, every language and kind, each measured with the lender's own name and contacts.</summary>
    public async Task<List<TemplateView>> TemplatesAsync(Guid lenderId, CancellationToken ct)
    {
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var own = await db.NoticeTemplates.AsNoTracking().Where(t => t.LenderId == lenderId).ToDictionaryAsync(t => (t.Language, t.Kind), t => t.Text, ct);
        var sample = SmsTemplates.Sample(lender.Name, lender.ShortCode, lender.SupportPhone);
        return SmsTemplates.Languages.SelectMany(language => NoticeKinds.All.Select(kind =>
            View(language, kind, own.GetValueOrDefault((language, kind)), sample))).ToList();
    }

    /// <summary>What is wrong with <paramref name="text"/> as the lender's template for <paramref name="kind"/>, or null.</summary>
    public async Task<string?> ProblemAsync(Guid lenderId, string kind, string text, CancellationToken ct)
    {
        if (SmsTemplates.Problem(text) is { } problem) return problem;
        if (!SmsTemplates.OneSegment.Contains(kind)) return null;
        var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
        var length = SmsSegments.Measure(SmsTemplates.Render(text, SmsTemplates.Sample(lender.Name, lender.ShortCode, lender.SupportPhone)));
        return length.Segments <= 1 ? null
            : $"A {kind} must fit one SMS segment (160 GSM-7 characters, or 70 when any character is outside GSM-7); with the longest amount and reference this text is {length.Units} {length.Encoding} units, {length.Segments} segments.";
    }

    public Task<TemplateView> SetTemplateAsync(Guid lenderId, string language, string kind, string text, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var row = await db.NoticeTemplates.FirstOrDefaultAsync(t => t.LenderId == lenderId && t.Language == language && t.Kind == kind, ct);
            if (row is null) db.NoticeTemplates.Add(row = new NoticeTemplate { LenderId = lenderId, Language = language, Kind = kind, Text = text });
            row.Text = text;
            row.UpdatedAt = time.GetUtcNow();
            await audit.RecordAsync(lenderId, actor, AuditAction.NoticeTemplateChanged, $"notice-template:{language}/{kind}", data: new { text }, ct: ct);
            var lender = await db.Lenders.AsNoTracking().FirstAsync(l => l.Id == lenderId, ct);
            return View(language, kind, text, SmsTemplates.Sample(lender.Name, lender.ShortCode, lender.SupportPhone));
        }, ct);

    /// <summary>Back to Lien's text; false when the lender had none of its own.</summary>
    public Task<bool> ResetTemplateAsync(Guid lenderId, string language, string kind, string actor, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var row = await db.NoticeTemplates.FirstOrDefaultAsync(t => t.LenderId == lenderId && t.Language == language && t.Kind == kind, ct);
            if (row is null) return false;
            db.NoticeTemplates.Remove(row);
            await audit.RecordAsync(lenderId, actor, AuditAction.NoticeTemplateChanged, $"notice-template:{language}/{kind}", "Back to Lien's text.", ct: ct);
            return true;
        }, ct);

    /// <summary>
    /// A delivery report: the provider's final word on a message it took (Success: delivered; Failed, Rejected: failed, with
    /// the reason; Sent, Submitted, Buffered: still on its way). False when no message has that provider id.
    /// </summary>
    public Task<bool> RecordReportAsync(string providerMessageId, string status, string? failureReason, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var m = await db.SmsMessages.FirstOrDefaultAsync(x => x.ProviderMessageId == providerMessageId && x.Provider == sender.Name, ct);
            if (m is null) return false;
            if (m.Status is SmsStatus.Delivered or SmsStatus.Failed) return true; // a repeated report changes nothing
            m.ProviderStatus = status;
            switch (status)
            {
                case "Success":
                    m.Status = SmsStatus.Delivered;
                    m.DeliveredAt = time.GetUtcNow();
                    break;
                case "Failed" or "Rejected":
                    m.Status = SmsStatus.Failed;
                    m.Error = failureReason ?? status;
                    await NoticeFailedAsync(m, ct);
                    break;
            }
            return true;
        }, ct);

    public Task NoticeSentAsync(SmsMessage m, CancellationToken ct) =>
        audit.RecordAsync(m.LenderId, Actor, AuditAction.NoticeSent, $"device:{m.DeviceId}", data: Data(m), ct: ct);

    public Task NoticeFailedAsync(SmsMessage m, CancellationToken ct) =>
        audit.RecordAsync(m.LenderId, Actor, AuditAction.NoticeFailed, $"device:{m.DeviceId}", m.Error, data: Data(m), ct: ct);

    // What a lender's system needs to match the notice, without the borrower's number or the text.
    private static object Data(SmsMessage m) => new
    {
        notice = m.Id, plan = m.PlanId, m.Kind, m.Language, m.LeaseSeq, m.Segments, m.Provider, m.ProviderMessageId, m.ProviderStatus,
        m.ProviderStatusCode, m.Cost,
    };

    private static TemplateView View(string language, string kind, string? own, NoticeValues sample)
    {
        var text = own ?? SmsTemplates.Default(language, kind);
        var length = SmsSegments.Measure(SmsTemplates.Render(text, sample));
        return new TemplateView(language, kind, text, own is not null, length.Encoding, length.Segments);
    }
}
