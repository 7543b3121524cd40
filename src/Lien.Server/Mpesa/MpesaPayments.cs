using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Audit;
using Lien.Server.Payments;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Lien.Server.UnmatchedPayments;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Mpesa;

/// <summary>What became of a request for an STK push.</summary>
internal abstract record StkPushOutcome
{
    /// <summary>Daraja took it: the prompt is on the borrower's phone; <see cref="RequestId"/> is for <see cref="MpesaPayments.StatusAsync"/>.</summary>
    public sealed record Sent(string RequestId, string CustomerMessage) : StkPushOutcome;

    /// <summary>The lender has no M-Pesa account.</summary>
    public sealed record NotConfigured : StkPushOutcome;

    /// <summary>The request itself cannot be made (plan, phone, amount); nothing was sent.</summary>
    public sealed record Refused(string Message) : StkPushOutcome;

    /// <summary>Daraja refused it or could not be reached; nothing is pending.</summary>
    public sealed record ProviderFailed(string Message) : StkPushOutcome;
}

/// <summary>Where an STK push stands, for a page that shows its progress.</summary>
internal sealed record MpesaRequestStatus(string RequestId, Guid PlanId, MpesaRequestState State, long Amount, string Currency, string? Receipt,
    string? ResultDesc, string Channel, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt);

/// <summary>A C2B payment as Daraja posts it to the validation and confirmation URLs (its own field names).</summary>
internal sealed record C2BPayment(string TransId, string TransAmount, string? BillRefNumber, string? Msisdn, string? PayerName, DateTimeOffset? TransTime)
{
    /// <summary>The payment read from Daraja's JSON, or why it cannot be (a field missing, of the wrong type, or not text Lien stores).</summary>
    public static (C2BPayment? Payment, Errors Errors) Read(JsonElement body)
    {
        var (id, amount, reference, msisdn) = (Field(body, "TransID"), Field(body, "TransAmount"), Field(body, "BillRefNumber"), Field(body, "MSISDN"));
        var name = string.Join(' ', new[] { Field(body, "FirstName"), Field(body, "MiddleName"), Field(body, "LastName") }.Where(n => !string.IsNullOrWhiteSpace(n)));
        var errors = new Errors().Check(body.ValueKind == JsonValueKind.Object, "body", "A C2B payment is a JSON object.")
            .Text(id, "TransID", 64, required: true).Text(amount, "TransAmount", 24, required: true).Text(reference, "BillRefNumber", 64)
            .Text(msisdn, "MSISDN", 32).Text(name, "FirstName", 200);
        return errors.Any ? (null, errors) : (new C2BPayment(id!, amount!, reference, msisdn, name.Length == 0 ? null : name, MpesaAmounts.Instant(Field(body, "TransTime"))), errors);
    }

    private static string? Field(JsonElement body, string name) => DarajaClient.Text(body, name);
}

/// <summary>What became of a C2B confirmation.</summary>
internal enum ConfirmationResult { Recorded, AlreadyRecorded, Held, AlreadyHeld, BadAmount }

/// <summary>
/// Money in by M-Pesa: C2B validation (answered from a read, nothing written) and confirmation (recorded through
/// <see cref="PaymentLedger"/> on the transaction id, or held in the unmatched queue), Lipa na M-Pesa Online requests
/// (STK push) and their callbacks, and the Transaction Status query's result for a request whose callback never came.
/// Every payment is recorded once whatever arrives twice, and money that names no plan is held, never dropped.
/// </summary>
internal sealed class MpesaPayments(LienDb db, MpesaAccounts accounts, DarajaClient daraja, PaymentMatcher matcher, PaymentLedger ledger,
    UnmatchedQueue queue, AuditTrail audit, TimeProvider time, ILogger<MpesaPayments> log) : IPaymentRequests
{
    public const string Provider = "mpesa";
    public const string Actor = "mpesa";

    /// <summary>M-Pesa moves Kenyan shillings: every amount it sends is read in KES.</summary>
    public const string Currency = "KES";

    /// <summary>The most one M-Pesa transaction may move, in shillings.</summary>
    public const long MaxWholeAmount = 250_000;

    private static readonly int Exponent = Currencies.Exponent(Currency)!.Value;

    private DbSet<MpesaPaymentRequest> Requests => db.Set<MpesaPaymentRequest>();

    // Asked inside every confirmation's unit of work (so inside SQLite's writer): compiled once, not built per payment.
    private static readonly CompiledQuery<Func<LienDb, Guid, string, CancellationToken, Task<bool>>> HeldBefore = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, string transactionId, CancellationToken ct) =>
            db.Set<UnmatchedPayment>().Any(u => u.LenderId == lenderId && u.Provider == Provider && u.ProviderTransactionId == transactionId)));

    /// <summary>Daraja's C2B validation: "0" accepts a payment whose account names a plan; <c>C2B00012</c> (invalid account) or <c>C2B00013</c> (invalid amount) rejects it.</summary>
    public async Task<(string ResultCode, string ResultDesc)> ValidateAsync(Guid lenderId, C2BPayment payment, CancellationToken ct)
    {
        if (MpesaAmounts.ToMinor(payment.TransAmount, Exponent) is null) return ("C2B00013", "Rejected");
        var match = await matcher.MatchAsync(lenderId, payment.BillRefNumber, ct);
        return match.Matched && match.Plan!.Lifecycle != PlanLifecycle.Cancelled ? ("0", "Accepted") : ("C2B00012", "Rejected");
    }

    /// <summary>Records a confirmed C2B payment once per <c>TransID</c>: for the plan its account names, or held unmatched.</summary>
    public async Task<ConfirmationResult> ConfirmAsync(Guid lenderId, C2BPayment payment, CancellationToken ct)
    {
        if (MpesaAmounts.ToMinor(payment.TransAmount, Exponent) is not { } amount) return ConfirmationResult.BadAmount;
        var arrived = new ArrivedPayment(Provider, payment.TransId, payment.BillRefNumber ?? "", amount, Currency, payment.Msisdn, payment.PayerName,
            payment.TransTime ?? time.GetUtcNow());
        // Most borrowers type the plan reference: the ledger finds the plan by it inside its unit of work, so the common
        // case reads the plan once. Only an account that names no plan that way goes to the matcher's other rules.
        if (AccountReferences.AsPlanReference(payment.BillRefNumber) is { } reference)
        {
            var direct = await RecordAsync(lenderId, new PaymentInput(null, reference, amount, Currency, Provider, payment.TransId, arrived.ReceivedAt), ct);
            if (direct.Result is not ConfirmationResult.Held) return direct.Result; // refused: the matcher's rules and the queue decide
        }
        var match = await matcher.MatchAsync(lenderId, payment.BillRefNumber, ct);
        if (match.Plan is { } plan)
        {
            var (result, refusal) = await RecordAsync(lenderId, new PaymentInput(plan.Id, null, amount, Currency, Provider, payment.TransId, arrived.ReceivedAt), ct);
            if (result is not ConfirmationResult.Held) return result;
            match = match with { Rule = MatchRule.None, Plan = null, Proposed = plan.Id, Note = Truncate(refusal!) };
        }
        return await queue.HoldAsync(lenderId, arrived, match, Actor, ct) is QueueOutcome.Done ? ConfirmationResult.Held : ConfirmationResult.AlreadyHeld;
    }

    /// <summary>
    /// The ledger's word on a confirmation, as what it means for Daraja; <see cref="ConfirmationResult.Held"/> stands for
    /// "refused (<c>Refusal</c> says why): to be held unmatched", which the caller does.
    /// </summary>
    private async Task<(ConfirmationResult Result, string? Refusal)> RecordAsync(Guid lenderId, PaymentInput input, CancellationToken ct)
    {
        // The same transaction held unmatched earlier (before its plan was made, say) stays held: it is assigned from there.
        var outcome = await ledger.RecordAsync(lenderId, input, Actor, ct, joining: async (_, _) =>
            await HeldBefore.For(db)(db, lenderId, input.ProviderTransactionId, ct) ? "held" : null);
        switch (outcome)
        {
            case LedgerOutcome.Recorded: return (ConfirmationResult.Recorded, null);
            case LedgerOutcome.AlreadyRecorded: return (ConfirmationResult.AlreadyRecorded, null);
            case LedgerOutcome.Refused(LedgerRefusal.Withdrawn, _): return (ConfirmationResult.AlreadyHeld, null);
            case LedgerOutcome.Refused(LedgerRefusal.DifferentRepeat, var detail):
                log.LogWarning("M-Pesa confirmed transaction {TransId} again with another plan or amount: {Detail}", input.ProviderTransactionId, detail);
                return (ConfirmationResult.AlreadyRecorded, null);
            case LedgerOutcome.Refused(_, var reason): return (ConfirmationResult.Held, reason);
            default: throw new InvalidOperationException($"Unexpected ledger outcome {outcome}.");
        }
    }

    /// <summary>
    /// Asks M-Pesa to prompt <paramref name="phoneE164"/> to pay <paramref name="amountMinor"/> (whole shillings) towards
    /// <paramref name="planId"/>; the payment is recorded when its callback (or the status query) says it was paid.
    /// </summary>
    public async Task<StkPushOutcome> RequestPaymentAsync(Guid lenderId, Guid planId, string phoneE164, long amountMinor, string channel, CancellationToken ct)
    {
        if (await accounts.OpenAsync(lenderId, ct) is not { } opened) return new StkPushOutcome.NotConfigured();
        var phone = Phones.Normalize(phoneE164);
        if (phone is null || !phone.StartsWith("+254", StringComparison.Ordinal) || phone.Length != 13)
            return new StkPushOutcome.Refused("The phone must be a Kenyan mobile number registered for M-Pesa, e.g. +254712345678.");
        if (string.IsNullOrWhiteSpace(channel) || channel.Length > 32) return new StkPushOutcome.Refused("The channel must be named (at most 32 characters).");
        var plan = await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Id == planId && p.LenderId == lenderId, ct);
        if (plan is null) return new StkPushOutcome.Refused("No such plan.");
        if (plan.Lifecycle != PlanLifecycle.Active) return new StkPushOutcome.Refused("The plan is not active: nothing is owed on it.");
        if (plan.Currency != Currency) return new StkPushOutcome.Refused($"The plan is in {plan.Currency}; M-Pesa takes {Currency} only.");
        if (MpesaAmounts.ToWhole(amountMinor, Exponent) is not { } whole || whole is < 1 or > MaxWholeAmount)
            return new StkPushOutcome.Refused($"M-Pesa takes whole shillings from KES 1 to KES {MaxWholeAmount:N0}.");

        var answer = await daraja.StkPushAsync(opened.App, whole, Phones.Msisdn(phone), opened.Urls.StkCallback, plan.Reference, "Loan payment", ct);
        if (answer is not DarajaAnswer.Accepted(var merchantId, var checkoutId, var message))
            return new StkPushOutcome.ProviderFailed(answer switch
            {
                DarajaAnswer.Refused r => $"M-Pesa refused the request: {r.Message}{(r.ErrorCode is null ? "" : $" ({r.ErrorCode})")}",
                DarajaAnswer.Unreachable u => u.Message,
                _ => "M-Pesa did not take the request.",
            });
        var now = time.GetUtcNow();
        var request = new MpesaPaymentRequest
        {
            Id = Guid.CreateVersion7(now), LenderId = lenderId, PlanId = planId, Phone = phone, Amount = amountMinor, Currency = Currency, Channel = channel,
            MerchantRequestId = Truncate(merchantId, 64), CheckoutRequestId = Truncate(checkoutId, 64), State = MpesaRequestState.Pending, CreatedAt = now,
        };
        await db.InTransactionAsync(async () =>
        {
            Requests.Add(request);
            await audit.RecordAsync(lenderId, Actor, AuditAction.MpesaPaymentRequested, $"mpesa-request:{request.Id}",
                data: new { plan = planId, request.Amount, request.Currency, request.Channel, request.CheckoutRequestId, phone = Phones.Masked(phone) }, ct: ct);
            return 0;
        }, ct);
        return new StkPushOutcome.Sent(request.Id.ToString("N"), message);
    }

    /// <summary>The pay page's and the USSD menu's "pay now": an STK push, as <see cref="IPaymentRequests"/> words it.</summary>
    async Task<PaymentRequestOutcome> IPaymentRequests.RequestAsync(Guid lenderId, Guid planId, string phoneE164, long amountMinor, string channel, CancellationToken ct) =>
        await RequestPaymentAsync(lenderId, planId, phoneE164, amountMinor, channel, ct) switch
        {
            StkPushOutcome.Sent sent => new PaymentRequestOutcome.Sent(sent.RequestId),
            StkPushOutcome.Refused refused => new PaymentRequestOutcome.Refused(refused.Message),
            StkPushOutcome.ProviderFailed failed => new PaymentRequestOutcome.ProviderFailed(failed.Message),
            _ => new PaymentRequestOutcome.NotConfigured("This lender takes no M-Pesa requests from Lien; pay by paybill with the account number shown."),
        };

    async Task<PaymentRequestState?> IPaymentRequests.StatusAsync(Guid lenderId, string requestId, CancellationToken ct) =>
        await StatusAsync(lenderId, requestId, ct) is { } s
            ? new PaymentRequestState(s.RequestId, s.State switch
            {
                MpesaRequestState.Paid => PaymentRequestStatus.Paid,
                MpesaRequestState.Cancelled => PaymentRequestStatus.Cancelled,
                MpesaRequestState.TimedOut => PaymentRequestStatus.TimedOut,
                MpesaRequestState.Failed => PaymentRequestStatus.Failed,
                _ => PaymentRequestStatus.Pending,
            }, s.Amount, s.Receipt, s.ResultDesc, s.EndedAt ?? s.CreatedAt)
            : null;

    /// <summary>Where the lender's request <paramref name="requestId"/> stands; null when there is no such request.</summary>
    public async Task<MpesaRequestStatus?> StatusAsync(Guid lenderId, string requestId, CancellationToken ct)
    {
        if (!Guid.TryParseExact(requestId, "N", out var id)) return null;
        var r = await Requests.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id && x.LenderId == lenderId, ct);
        return r is null ? null : new MpesaRequestStatus(r.Id.ToString("N"), r.PlanId, r.State, r.Amount, r.Currency, r.Receipt, r.ResultDesc, r.Channel,
            r.CreatedAt, r.EndedAt);
    }

    /// <summary>
    /// The STK callback (<c>Body.stkCallback</c>): ResultCode 0 with its metadata records the payment on its receipt number;
    /// 1032 (cancelled by the user) and 1037 (the phone could not be reached in time) end the request, as does any other.
    /// False when the body is not a callback.
    /// </summary>
    public async Task<bool> StkCallbackAsync(Guid lenderId, JsonElement body, CancellationToken ct)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("Body", out var outer) || outer.ValueKind != JsonValueKind.Object
            || !outer.TryGetProperty("stkCallback", out var cb) || cb.ValueKind != JsonValueKind.Object) return false;
        var checkoutId = DarajaClient.Text(cb, "CheckoutRequestID");
        if (!int.TryParse(DarajaClient.Text(cb, "ResultCode"), out var code) || checkoutId is null || checkoutId.Length > 64) return false;
        var desc = Truncate(DarajaClient.Text(cb, "ResultDesc") ?? "", 200);
        var items = Pairs(cb, "CallbackMetadata", "Item", "Name");
        if (code == 0)
        {
            var receipt = items.GetValueOrDefault("MpesaReceiptNumber");
            var amount = MpesaAmounts.ToMinor(items.GetValueOrDefault("Amount"), Exponent);
            if (receipt is not { Length: > 0 and <= 32 } || Errors.ControlCharacter(receipt, "receipt", false) is not null || amount is null) return false;
            await PaidAsync(lenderId, r => r.CheckoutRequestId == checkoutId, receipt, amount.Value,
                MpesaAmounts.Instant(items.GetValueOrDefault("TransactionDate")), items.GetValueOrDefault("PhoneNumber"), code, desc, ct);
            return true;
        }
        await EndAsync(lenderId, r => r.CheckoutRequestId == checkoutId, code switch
        {
            1032 => MpesaRequestState.Cancelled,
            1037 => MpesaRequestState.TimedOut,
            _ => MpesaRequestState.Failed,
        }, code, desc, ct);
        return true;
    }

    /// <summary>
    /// The Transaction Status query's result (<c>Result</c>): completed, it records the payment on the receipt like the
    /// callback that never came would have; otherwise the request ends as failed. False when the body is not a result.
    /// </summary>
    public async Task<bool> StatusResultAsync(Guid lenderId, JsonElement body, CancellationToken ct)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("Result", out var result) || result.ValueKind != JsonValueKind.Object) return false;
        var conversation = DarajaClient.Text(result, "ConversationID");
        var originator = DarajaClient.Text(result, "OriginatorConversationID");
        if (!int.TryParse(DarajaClient.Text(result, "ResultCode"), out var code) || conversation is null or { Length: > 64 }) return false;
        var desc = Truncate(DarajaClient.Text(result, "ResultDesc") ?? "", 200);
        var parameters = Pairs(result, "ResultParameters", "ResultParameter", "Key");
        var other = originator ?? conversation; // the query's other id, when Daraja sent it
        if (code == 0 && parameters.GetValueOrDefault("TransactionStatus") == "Completed")
        {
            var receipt = parameters.GetValueOrDefault("ReceiptNo");
            var amount = MpesaAmounts.ToMinor(parameters.GetValueOrDefault("Amount"), Exponent);
            if (receipt is not { Length: > 0 and <= 32 } || Errors.ControlCharacter(receipt, "receipt", false) is not null || amount is null) return false;
            await PaidAsync(lenderId, r => r.StatusConversationId == conversation || r.StatusConversationId == other, receipt, amount.Value,
                MpesaAmounts.Instant(parameters.GetValueOrDefault("FinalisedTime")), null, code, desc, ct);
            return true;
        }
        await EndAsync(lenderId, r => r.StatusConversationId == conversation || r.StatusConversationId == other, MpesaRequestState.Failed, code, desc, ct);
        return true;
    }

    // Paid: the payment recorded on its receipt and the request closed, in one unit of work; a second word of the same
    // payment (the callback twice, or the callback after the status query) finds it paid and records nothing.
    private async Task PaidAsync(Guid lenderId, System.Linq.Expressions.Expression<Func<MpesaPaymentRequest, bool>> which, string receipt, long amount,
        DateTimeOffset? at, string? phone, int code, string desc, CancellationToken ct)
    {
        var request = await Requests.AsNoTracking().Where(r => r.LenderId == lenderId).FirstOrDefaultAsync(which, ct);
        if (request is null)
        {
            // Paid, but for no request Lien knows of (its record was lost): the money is held, not dropped.
            await queue.HoldAsync(lenderId, new ArrivedPayment(Provider, receipt, "", amount, Currency, phone, null, at ?? time.GetUtcNow()),
                new PaymentMatch(MatchRule.None, null, Note: "An STK push payment for no request Lien knows of."), Actor, ct);
            return;
        }
        if (request.State == MpesaRequestState.Paid) return;
        var input = new PaymentInput(request.PlanId, null, amount, Currency, Provider, receipt, at ?? time.GetUtcNow());
        var outcome = await ledger.RecordAsync(lenderId, input, Actor, ct, joining: async (payment, _) =>
        {
            var tracked = await Requests.FirstAsync(r => r.Id == request.Id, ct);
            if (tracked.State == MpesaRequestState.Paid) return "already paid";
            End(tracked, MpesaRequestState.Paid, code, desc);
            (tracked.Receipt, tracked.PaymentId) = (receipt, payment.Id);
            await audit.RecordAsync(lenderId, Actor, AuditAction.MpesaPaymentEnded, $"mpesa-request:{tracked.Id}", desc,
                data: new { state = tracked.State, receipt, payment = payment.Id, amount, code }, ct: ct);
            return null;
        });
        if (outcome is LedgerOutcome.Refused(not LedgerRefusal.Withdrawn, var detail))
        {
            // The plan cannot take it now (cancelled since, say): the money is held for staff.
            log.LogWarning("M-Pesa payment {Receipt} for request {Request} could not be recorded: {Detail}", receipt, request.Id, detail);
            await queue.HoldAsync(lenderId, new ArrivedPayment(Provider, receipt, "", amount, Currency, phone, null, at ?? time.GetUtcNow()),
                new PaymentMatch(MatchRule.None, null, request.PlanId, Truncate(detail)), Actor, ct);
        }
    }

    private Task EndAsync(Guid lenderId, System.Linq.Expressions.Expression<Func<MpesaPaymentRequest, bool>> which, MpesaRequestState state, int code,
        string desc, CancellationToken ct) =>
        db.InTransactionAsync(async () =>
        {
            var request = await Requests.Where(r => r.LenderId == lenderId).FirstOrDefaultAsync(which, ct);
            if (request is null || request.State != MpesaRequestState.Pending) return 0; // unknown, or ended already: said once
            End(request, state, code, desc);
            await audit.RecordAsync(lenderId, Actor, AuditAction.MpesaPaymentEnded, $"mpesa-request:{request.Id}", desc,
                data: new { state, code }, ct: ct);
            return 0;
        }, ct);

    private void End(MpesaPaymentRequest request, MpesaRequestState state, int code, string desc)
    {
        (request.State, request.ResultCode, request.ResultDesc, request.EndedAt) = (state, code, desc, time.GetUtcNow());
        request.Version++;
    }

    /// <summary>
    /// Asks Daraja for the status of each request still pending <paramref name="after"/> since it was made (or last asked
    /// about); the answer comes to the status result URL. One pending longer than <paramref name="giveUpAfter"/> is ended
    /// as failed instead, and not asked about again. Returns how many were asked about.
    /// </summary>
    public async Task<int> QueryStaleAsync(TimeSpan after, TimeSpan giveUpAfter, CancellationToken ct)
    {
        var abandoned = time.GetUtcNow() - giveUpAfter;
        var hopeless = await Requests.AsNoTracking().Where(r => r.State == MpesaRequestState.Pending && r.CreatedAt <= abandoned)
            .OrderBy(r => r.CreatedAt).Select(r => new { r.Id, r.LenderId }).Take(100).ToListAsync(ct);
        foreach (var r in hopeless)
            await EndAsync(r.LenderId, x => x.Id == r.Id, MpesaRequestState.Failed, -1,
                $"No answer from M-Pesa within {giveUpAfter.TotalHours:0.#} h; a payment it reports later is still recorded.", ct);
        var cutoff = time.GetUtcNow() - after;
        var stale = await Requests.AsNoTracking()
            .Where(r => r.State == MpesaRequestState.Pending && r.CreatedAt <= cutoff && (r.StatusQueriedAt == null || r.StatusQueriedAt <= cutoff))
            .OrderBy(r => r.CreatedAt).Take(100).ToListAsync(ct);
        var asked = 0;
        foreach (var r in stale)
        {
            if (await accounts.OpenAsync(r.LenderId, ct) is not { } opened) continue;
            var answer = await daraja.TransactionStatusAsync(opened.App, null, r.CheckoutRequestId, opened.Urls.StatusResult, opened.Urls.StatusTimeout, ct);
            if (answer is not DarajaAnswer.Accepted(var originator, var conversation, _))
            {
                log.LogWarning("M-Pesa status query for request {Request} was not taken: {Answer}", r.Id, answer);
                continue;
            }
            await db.InTransactionAsync(async () =>
            {
                var tracked = await Requests.FirstAsync(x => x.Id == r.Id, ct);
                (tracked.StatusQueriedAt, tracked.StatusConversationId) = (time.GetUtcNow(), Truncate(conversation.Length > 0 ? conversation : originator, 64));
                tracked.Version++;
                return 0;
            }, ct);
            asked++;
        }
        return asked;
    }

    // Daraja's lists of named values ({"Name": …, "Value": …} or {"Key": …, "Value": …}) under outer.inner, by name; the first of a name counts.
    private static Dictionary<string, string?> Pairs(JsonElement e, string outer, string inner, string nameKey) =>
        e.TryGetProperty(outer, out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(inner, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(i => DarajaClient.Text(i, nameKey) is not null).GroupBy(i => DarajaClient.Text(i, nameKey)!)
                .ToDictionary(g => g.Key, g => DarajaClient.Text(g.First(), "Value"), StringComparer.Ordinal)
            : [];

    private static string Truncate(string s, int max = 200) => s.Length <= max ? s : s[..max];
}
