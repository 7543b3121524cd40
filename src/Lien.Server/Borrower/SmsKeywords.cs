using Lien.Server.Disputes;
using Lien.Server.Notices;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Borrower;

/// <summary>
/// Keywords a borrower texts to the lender's number (Africa's Talking's incoming messages), any case, English or Swahili:
/// <c>BAL</c>/<c>SALIO</c> the balance and next due date, <c>CODE</c>/<c>KODI</c> an unlock code (by SMS to the plan's
/// registered number), <c>PAID ref</c>/<c>NIMELIPA ref</c> an "I have paid" dispute, <c>HELP</c>/<c>MSAADA</c> (and anything
/// else) the list. Each message is answered once by its provider id, through the SMS outbox; a number with no plan gets
/// the list of keywords and nothing about anyone.
/// </summary>
internal sealed class SmsKeywords(LienDb db, BorrowerDesk desk, SmsNotices sms, TimeProvider time)
{
    private static readonly Dictionary<string, (string Keyword, string Language)> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BAL"] = ("BAL", "en"), ["BALANCE"] = ("BAL", "en"), ["SALIO"] = ("BAL", "sw"),
        ["CODE"] = ("CODE", "en"), ["KODI"] = ("CODE", "sw"), ["NAMBARI"] = ("CODE", "sw"),
        ["PAID"] = ("PAID", "en"), ["NIMELIPA"] = ("PAID", "sw"),
        ["HELP"] = ("HELP", "en"), ["MSAADA"] = ("HELP", "sw"),
    };

    private const string HelpEn = "Send BAL for your balance, CODE for an unlock code, PAID and the M-Pesa code if you paid and it is not shown, HELP for this list.";
    private const string HelpSw = "Tuma SALIO kupata salio, KODI kupata nambari ya kufungua, NIMELIPA na nambari ya M-Pesa kama ulilipa na haionekani, MSAADA kwa orodha hii.";
    private const string Stranger = "This number has no phone plan here. Text from the number you gave your lender, or call your lender. / Nambari hii haina mpango wa simu hapa.";

    /// <summary>Answers one incoming message; false when its id was answered before (nothing is done again).</summary>
    public async Task<bool> AnswerAsync(string messageId, string from, string text, CancellationToken ct)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var (keyword, asked) = words.Length > 0 && Keywords.TryGetValue(words[0], out var k) ? k : ("HELP", (string?)null);
        var plans = await desk.ByPhoneAsync(from, ct);
        // The message is claimed before anything is done: a delivery repeated, even at once on another node, finds it.
        var claimed = await ClaimAsync(new IncomingSms { Id = messageId, From = from, Keyword = keyword, PlanId = plans.FirstOrDefault()?.Plan.Id, ReceivedAt = time.GetUtcNow() }, ct);
        if (!claimed) return false;
        if (plans.Count == 0)
        {
            await sms.SendToStrangerAsync(from, Stranger, ct);
            return true;
        }
        var args = words.Skip(1).ToList();
        // With several plans, CODE and PAID name one by its reference first.
        var named = args.Count > 0 ? plans.FirstOrDefault(p => string.Equals(p.Plan.Reference, args[0], StringComparison.OrdinalIgnoreCase)) : null;
        if (named is not null) args.RemoveAt(0);
        var plan = named ?? plans[0];
        var language = asked ?? plan.Language(null);
        var w = BorrowerWords.For(language);
        string? reply = keyword switch
        {
            "BAL" => string.Join("\n", plans.Select(p => $"{p.Plan.Reference}: " + (p.AmountNow > 0 && p.State.AmountOverdue > 0 ? $"{w.OwedNow} {p.Money(p.State.AmountOverdue)}. " : "")
                + (p.State.NextDueDate is { } next ? $"{w.NextDue} {p.Money(p.State.NextDueAmount)} {next:yyyy-MM-dd}. " : "") + $"{w.Balance} {p.Money(p.State.Outstanding)}.")),
            "CODE" or "PAID" when named is null && plans.Count > 1 =>
                $"{keyword} {string.Join(" / ", plans.Select(p => p.Plan.Reference))}",
            "CODE" => await desk.SendCodeAsync(plan, "sms", language, ct) is { Done: false } refused ? refused.Message : null, // the code is its own SMS
            "PAID" => (await desk.DisputeAsync(plan, new DisputeRequest(DisputeKind.Paid, args.Count > 0 ? args[0] : null, null), "sms", language, ct)).Message,
            _ => language == "sw" ? HelpSw : HelpEn,
        };
        if (reply is not null)
            await db.InTransactionAsync(() => Task.FromResult(sms.QueueReply(plan.Lender.Id, plan.Device.Id, plan.Plan.Id, from, "reply", language,
                $"{plan.Lender.Name}: {reply}")), ct);
        return true;
    }

    private async Task<bool> ClaimAsync(IncomingSms message, CancellationToken ct)
    {
        try
        {
            return await db.InTransactionAsync(async () =>
            {
                if (await db.Set<IncomingSms>().AnyAsync(m => m.Id == message.Id, ct)) return false;
                db.Set<IncomingSms>().Add(message);
                return true;
            }, ct);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false; // the same id claimed at the same instant elsewhere
        }
    }
}
