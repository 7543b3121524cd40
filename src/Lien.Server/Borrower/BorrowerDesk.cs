using Lien.Protocol;
using Lien.Protocol.Codes;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Codes;
using Lien.Server.Devices;
using Lien.Server.Disputes;
using Lien.Server.Lenders;
using Lien.Server.Notices;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Borrower;

/// <summary>One plan as its borrower sees it: the plan, its lender and device, and its standing now.</summary>
internal sealed record BorrowerPlan(Plan Plan, Lender Lender, Device Device, PlanState State)
{
    /// <summary>What to pay now: what is overdue, else the next installment (never more than the balance).</summary>
    public long AmountNow => State.AmountOverdue > 0 ? State.AmountOverdue : Math.Min(State.NextDueAmount, State.Outstanding);

    public string Money(long minor) => new Money(minor, Plan.Currency).ToString();

    /// <summary>The borrower's language: asked for, else the plan's, else English.</summary>
    public string Language(string? asked) => asked is "sw" or "en" ? asked : Plan.BorrowerLanguage is "sw" ? "sw" : "en";
}

/// <summary>What became of a borrower's request: done with a message to show, or refused with one.</summary>
internal sealed record BorrowerAnswer(bool Done, string Message, Guid? RequestId = null, string? Code = null);

/// <summary>
/// What a borrower can do for themselves, by pay page, USSD or SMS keyword: read their plan, ask to pay (through
/// <see cref="IPaymentRequests"/>), get an unlock code (through <see cref="CodeIssuer"/>), open a dispute (through
/// <see cref="DisputeDesk"/>) and ask to be called back. Every entry point comes here; none repeats a rule.
/// </summary>
internal sealed class BorrowerDesk(LienDb db, IPaymentRequests payments, CodeIssuer codes, DisputeDesk disputes, SmsNotices sms, AuditTrail audit,
    TimeProvider time)
{
    /// <summary>Requests to pay one plan may make in <see cref="PayWindow"/>: a PIN prompt is a nuisance when repeated.</summary>
    public const int PayRequestsPerWindow = 5;
    public static readonly TimeSpan PayWindow = TimeSpan.FromMinutes(15);

    /// <summary>Codes a borrower may get for one device a day (each one worth only the days to the next deadline).</summary>
    public const int CodesPerDay = 3;

    /// <summary>Whether <paramref name="token"/> looks like a pay link's secret, checked before any read.</summary>
    public static bool IsToken(string? token) =>
        token is { Length: Plan.PayTokenLength } && token.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'z');

    /// <summary>The plan a pay link names (active or paid off; a cancelled plan's link shows nothing), or null.</summary>
    public async Task<BorrowerPlan?> ByTokenAsync(string token, CancellationToken ct) =>
        IsToken(token) ? await LoadAsync(db.Plans.Where(p => p.PayToken == token && p.Lifecycle != PlanLifecycle.Cancelled), ct) is [var one] ? one : null : null;

    /// <summary>The active plans whose borrower's registered number is <paramref name="phone"/> (E.164), oldest first.</summary>
    public Task<List<BorrowerPlan>> ByPhoneAsync(string phone, CancellationToken ct) =>
        LoadAsync(db.Plans.Where(p => p.BorrowerPhone == phone && p.Lifecycle == PlanLifecycle.Active), ct);

    public async Task<BorrowerPlan?> ByIdAsync(Guid planId, CancellationToken ct) => (await LoadAsync(db.Plans.Where(p => p.Id == planId), ct)).FirstOrDefault();

    private async Task<List<BorrowerPlan>> LoadAsync(IQueryable<Plan> which, CancellationToken ct)
    {
        var rows = await which.AsNoTracking().Include(p => p.Installments)
            .Join(db.Lenders, p => p.LenderId, l => l.Id, (p, l) => new { p, l })
            .Join(db.Devices, x => x.p.DeviceId, d => d.Id, (x, d) => new { x.p, x.l, d })
            .OrderBy(x => x.p.CreatedAt).ThenBy(x => x.p.Id).Take(10).ToListAsync(ct);
        var now = time.GetUtcNow();
        return rows.Select(x => new BorrowerPlan(x.p, x.l, x.d, x.p.State(x.l, now))).ToList();
    }

    /// <summary>Asks the provider to collect <paramref name="amount"/> from <paramref name="phone"/>; the request is kept so its page can follow it.</summary>
    public async Task<BorrowerAnswer> RequestPaymentAsync(BorrowerPlan p, string phone, long amount, string channel, string language, CancellationToken ct)
    {
        var w = BorrowerWords.For(language);
        if (p.Plan.Lifecycle != PlanLifecycle.Active || p.State.Outstanding <= 0) return new(false, w.NothingOwed);
        if (!Phones.IsE164(phone)) return new(false, w.BadPhone);
        if (amount <= 0) return new(false, w.BadAmount);
        if (amount > p.State.Outstanding) return new(false, string.Format(w.TooMuch, p.Money(p.State.Outstanding)));
        var since = time.GetUtcNow() - PayWindow;
        if (await db.Set<PayRequest>().CountAsync(r => r.PlanId == p.Plan.Id && r.CreatedAt > since, ct) >= PayRequestsPerWindow)
            return new(false, w.TooManyRequests);
        var outcome = await payments.RequestAsync(p.Lender.Id, p.Plan.Id, phone, amount, channel, ct);
        if (outcome is not PaymentRequestOutcome.Sent sent)
            return new(false, outcome switch
            {
                PaymentRequestOutcome.NotConfigured => string.Format(w.PayByPaybill, p.Lender.Paybill ?? "-", p.Plan.Reference),
                PaymentRequestOutcome.Refused r => r.Message,
                _ => w.ProviderFailed,
            });
        var now = time.GetUtcNow();
        var row = new PayRequest
        {
            Id = Guid.CreateVersion7(now), LenderId = p.Lender.Id, PlanId = p.Plan.Id, ProviderRequestId = sent.RequestId, Channel = channel,
            Amount = amount, PhoneMasked = Phones.Masked(phone), CreatedAt = now,
        };
        await db.InTransactionAsync(async () =>
        {
            db.Set<PayRequest>().Add(row);
            await audit.RecordAsync(p.Lender.Id, $"borrower:{channel}", AuditAction.BorrowerPayRequested, $"plan:{p.Plan.Id}",
                data: new { request = row.Id, amount, currency = p.Plan.Currency, phone = row.PhoneMasked }, ct: ct);
            return true;
        }, ct);
        return new(true, string.Format(w.PinPrompt, Phones.Masked(phone)), row.Id);
    }

    /// <summary>One of the plan's requests to pay and the provider's word on it now (null when the provider has none).</summary>
    public async Task<(PayRequest Request, PaymentRequestState? State)?> RequestStateAsync(BorrowerPlan p, Guid requestId, CancellationToken ct)
    {
        var row = await db.Set<PayRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == requestId && r.PlanId == p.Plan.Id, ct);
        if (row is null) return null;
        return (row, await payments.StatusAsync(p.Lender.Id, row.ProviderRequestId, ct));
    }

    /// <summary>
    /// An unlock code for the plan's own device, worth the days to the next deadline (so only a plan that is paid up to
    /// date gets one: <see cref="CodeIssuer"/> refuses while an installment is past its grace), at most
    /// <see cref="CodesPerDay"/> a day.
    /// </summary>
    public async Task<BorrowerAnswer> IssueCodeAsync(BorrowerPlan p, string channel, string language, CancellationToken ct)
    {
        var w = BorrowerWords.For(language);
        if (p.Plan.Lifecycle != PlanLifecycle.Active) return new(false, w.NothingOwed);
        var since = time.GetUtcNow().AddDays(-1);
        if (await db.IssuedCodes.CountAsync(c => c.DeviceId == p.Device.Id && c.IssuedAt > since && c.Actor.StartsWith("borrower:"), ct) >= CodesPerDay)
            return new(false, w.TooManyCodes);
        var outcome = await codes.IssueAsync(p.Lender.Id, p.Device.Id, new CodeRequest(TokenType.AddTime, null, $"Asked for by the borrower ({channel})."),
            new CodeCaller($"borrower:{channel}", null), ct);
        return outcome switch
        {
            CodeOutcome.Issued i => new(true, string.Format(w.CodeIs, Spaced(i.Digits), i.Code.Value / i.TimeDivider), Code: i.Digits),
            CodeOutcome.Refused { Reason: CodeRefusal.StillOverdue } => new(false, string.Format(w.PayFirst, p.Money(p.AmountNow))),
            CodeOutcome.Refused { Reason: CodeRefusal.NotEnrolled } => new(false, w.NoCodes),
            _ => new(false, w.NothingOwed),
        };
    }

    /// <summary>An unlock code sent by SMS to the plan's registered number only (never shown where it was asked for).</summary>
    public async Task<BorrowerAnswer> SendCodeAsync(BorrowerPlan p, string channel, string language, CancellationToken ct)
    {
        var w = BorrowerWords.For(language);
        if (p.Plan.BorrowerPhone is not { } to) return new(false, w.NoPhone);
        var code = await IssueCodeAsync(p, channel, language, ct);
        if (!code.Done) return code;
        var queued = await db.InTransactionAsync(() =>
            Task.FromResult(sms.QueueReply(p.Lender.Id, p.Device.Id, p.Plan.Id, to, SmsMessage.CodeKind, language, $"{p.Lender.Name}: {code.Message}")), ct);
        return queued ? new(true, string.Format(w.CodeSent, Phones.Masked(to))) : new(false, w.NoSms);
    }

    /// <summary>Opens a dispute of the plan ("I have paid" with the transaction reference, or words of the borrower's own).</summary>
    public async Task<BorrowerAnswer> DisputeAsync(BorrowerPlan p, DisputeRequest request, string channel, string language, CancellationToken ct)
    {
        var w = BorrowerWords.For(language);
        var errors = request.Validate();
        if (errors.Any) return new(false, request.Kind == DisputeKind.Paid ? w.BadReference : w.BadText);
        return await disputes.OpenForPlanAsync(p.Lender.Id, p.Plan.Id, request, $"borrower:{channel}", ct) switch
        {
            DisputeOutcome.Done d => new(true, string.Format(w.DisputeOpened, d.Dispute.ExpiresAt.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))),
            DisputeOutcome.Refused { Status: 409 } => new(false, w.DisputeAlreadyOpen),
            _ => new(false, w.NothingOwed),
        };
    }

    /// <summary>A request to be called back on <paramref name="phone"/>; one open request per plan (a second is the first).</summary>
    public Task<BorrowerAnswer> CallbackAsync(BorrowerPlan p, string phone, string channel, string language, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var w = BorrowerWords.For(language);
            if (!await db.Set<CallbackRequest>().AnyAsync(c => c.PlanId == p.Plan.Id && c.DoneAt == null, ct))
            {
                var now = time.GetUtcNow();
                var row = new CallbackRequest { Id = Guid.CreateVersion7(now), LenderId = p.Lender.Id, PlanId = p.Plan.Id, Phone = phone, Channel = channel, RequestedAt = now };
                db.Set<CallbackRequest>().Add(row);
                await audit.RecordAsync(p.Lender.Id, $"borrower:{channel}", AuditAction.BorrowerCallbackRequested, $"plan:{p.Plan.Id}",
                    data: new { request = row.Id, phone = Phones.Masked(phone) }, ct: ct);
            }
            return new BorrowerAnswer(true, string.Format(w.CallbackNoted, Phones.Masked(phone)));
        }, ct);

    /// <summary>An IMEI as a borrower's pages show it: its last four digits.</summary>
    public static string MaskImei(string imei) => "•••••••••••" + imei[^4..];

    private static string Spaced(string digits) => string.Join(' ', digits.Chunk(3).Select(c => new string(c)));
}
