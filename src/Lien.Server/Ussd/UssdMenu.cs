using Lien.Server.Api;
using System.Globalization;
using Lien.Server.Borrower;
using Lien.Server.Disputes;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lien.Server.Ussd;

/// <summary>How long a USSD session lasts between two steps (<c>Lien:Ussd:SessionTimeout</c>): Africa's Talking ends one after about 180 s.</summary>
internal sealed class UssdOptions
{
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(180);
}

/// <summary>The menu's words in English and Swahili (a screen holds about 180 characters).</summary>
internal sealed record UssdWords(string Home, string Choose, string Balance, string BalanceNothing, string Pay, string PayFull, string DisputeMenu,
    string Reference, string Text, string Invalid, string Unknown, string Expired, string TooMany, string Back)
{
    public static readonly UssdWords English = new(
        "{0}\n1. Balance\n2. Pay now\n3. Unlock code by SMS\n4. I have a problem\n5. Call me back", "Choose your phone:",
        "Due now: {0}\nNext: {1} on {2}\nBalance: {3}", "Nothing due now.\nBalance: {0}", "Pay from {0}:\n1. {1} (due now)\n2. {2} (all)",
        "Pay from {0}:\n1. {1} (all)", "1. I have paid\n2. Something else", "Enter the M-Pesa transaction code:", "Say what happened:",
        "Invalid choice.", "This number has no phone plan with us. Dial from the number you gave your lender, or call your lender.",
        "Your session expired; starting again.", "Too many requests; try again later.", "0. Back 00. Home");

    public static readonly UssdWords Swahili = new(
        "{0}\n1. Salio\n2. Lipa sasa\n3. Nambari ya kufungua kwa SMS\n4. Nina tatizo\n5. Nipigie", "Chagua simu yako:",
        "Inadaiwa sasa: {0}\nIjayo: {1} tarehe {2}\nSalio: {3}", "Hakuna kinachodaiwa sasa.\nSalio: {0}", "Lipa kutoka {0}:\n1. {1} (sasa)\n2. {2} (yote)",
        "Lipa kutoka {0}:\n1. {1} (yote)", "1. Nimelipa\n2. Jambo lingine", "Andika nambari ya muamala wa M-Pesa:", "Eleza kilichotokea:",
        "Chaguo si sahihi.", "Nambari hii haina mpango wa simu nasi. Piga kutoka nambari uliyompa mkopeshaji, au mpigie mkopeshaji.",
        "Kipindi kimeisha; tunaanza upya.", "Maombi mengi; jaribu tena baadaye.", "0. Rudi 00. Mwanzo");

    public static UssdWords For(string language) => language == "sw" ? Swahili : English;
}

/// <summary>
/// The USSD menu on Africa's Talking's callback: each request carries every input of the session so far (<c>1*2*…</c>);
/// the session row says how many were taken, so each step reads only the new ones, from any node, after a restart too.
/// The dialler is known by number: a number with several plans chooses one first; an unknown number is told so and ends.
/// What each choice does is <see cref="BorrowerDesk"/>'s: balance, a request to pay from the dialling number, an unlock code
/// by SMS to the plan's registered number (never on the screen), a dispute, a call back.
/// </summary>
internal sealed class UssdMenu(LienDb db, BorrowerDesk desk, TimeProvider time, IOptions<UssdOptions> options)
{
    private const string Home = "home", Choose = "choose", Balance = "balance", Pay = "pay", Dispute = "dispute", DisputePaid = "dispute-paid",
        DisputeOther = "dispute-other";

    /// <summary>The answer to one callback: <c>CON …</c> to go on, <c>END …</c> to finish.</summary>
    public async Task<string> AnswerAsync(string sessionId, string phone, string text, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var inputs = text.Length == 0 ? [] : text.Split('*');
        var plans = await desk.ByPhoneAsync(phone, ct);
        if (plans.Count == 0) return "END " + UssdWords.English.Unknown;
        var session = await db.Set<UssdSession>().FirstOrDefaultAsync(s => s.Id == sessionId, ct);
        var language = plans[0].Language(null);
        var w = UssdWords.For(language);
        string reply;
        if (session is null || session.Phone != phone || session.ExpiresAt <= now || inputs.Length < session.Consumed)
        {
            var restarted = session is not null;
            if (session is null)
            {
                // Old sessions of this number are of no more use: gone when it dials again.
                await db.InTransactionAsync(() => db.Set<UssdSession>().Where(s => s.Phone == phone && s.ExpiresAt <= now).ExecuteDeleteAsync(ct), ct);
                session = new UssdSession { Id = sessionId, Phone = phone, State = Home, Reply = "" };
                db.Set<UssdSession>().Add(session);
            }
            (session.Phone, session.Consumed) = (phone, inputs.Length);
            (session.State, session.PlanId) = plans.Count == 1 ? (Home, plans[0].Plan.Id) : (Choose, (Guid?)null);
            reply = Screen(session, plans, w);
            if (restarted) reply = "CON " + w.Expired + "\n" + reply[4..];
        }
        else if (inputs.Length == session.Consumed)
            reply = session.Reply; // the same request again: the same answer
        else
        {
            reply = "";
            foreach (var input in inputs[session.Consumed..])
            {
                reply = await StepAsync(session, plans, input.Trim(), w, ct);
                if (reply.StartsWith("END ", StringComparison.Ordinal)) break;
            }
            session.Consumed = inputs.Length;
        }
        session.Reply = reply.Length > 400 ? reply[..400] : reply;
        session.ExpiresAt = now + options.Value.SessionTimeout;
        await db.InTransactionAsync(async () => await db.SaveChangesAsync(ct), ct);
        return reply;
    }

    private async Task<string> StepAsync(UssdSession s, List<BorrowerPlan> plans, string input, UssdWords w, CancellationToken ct)
    {
        var p = plans.FirstOrDefault(x => x.Plan.Id == s.PlanId);
        if (p is null && s.State != Choose)
        {
            // The plan chosen is no longer active (paid off, cancelled): back to what the number has.
            s.PlanId = plans.Count == 1 ? plans[0].Plan.Id : null;
            return Go(s, plans.Count == 1 ? Home : Choose, plans, w);
        }
        if (input == "00" && s.State != Choose) return Go(s, Home, plans, w);
        var language = p?.Language(null) ?? "en";
        switch (s.State, input)
        {
            case (Choose, _) when int.TryParse(input, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= plans.Count:
                s.PlanId = plans[n - 1].Plan.Id;
                return Go(s, Home, plans, w);
            case (Home, "1"): return Go(s, Balance, plans, w);
            case (Home, "2"): return Go(s, Pay, plans, w);
            case (Home, "3"): return "END " + (await desk.SendCodeAsync(p!, "ussd", language, ct)).Message;
            case (Home, "4"): return Go(s, Dispute, plans, w);
            case (Home, "5"): return "END " + (await desk.CallbackAsync(p!, s.Phone, "ussd", language, ct)).Message;
            case (Home, "0") when plans.Count > 1: return Go(s, Choose, plans, w);
            case (Balance or Pay or Dispute, "0"): return Go(s, Home, plans, w);
            case (Pay, "1" or "2"):
                var amount = input == "1" && p!.AmountNow > 0 && p.AmountNow < p.State.Outstanding ? p.AmountNow : p!.State.Outstanding;
                return "END " + (await desk.RequestPaymentAsync(p, s.Phone, amount, "ussd", language, ct)).Message;
            case (Dispute, "1"): return Go(s, DisputePaid, plans, w);
            case (Dispute, "2"): return Go(s, DisputeOther, plans, w);
            case (DisputePaid or DisputeOther, "0"): return Go(s, Dispute, plans, w);
            case (DisputePaid or DisputeOther, _):
                var request = s.State == DisputePaid ? new DisputeRequest(DisputeKind.Paid, input, null) : new DisputeRequest(DisputeKind.Other, null, input);
                if (request.Validate().Any) break; // asked again
                return "END " + (await desk.DisputeAsync(p!, request, "ussd", language, ct)).Message;
        }
        return "CON " + w.Invalid + "\n" + Screen(s, plans, w)[4..];
    }

    private static string Go(UssdSession s, string state, List<BorrowerPlan> plans, UssdWords w)
    {
        s.State = state;
        return Screen(s, plans, w);
    }

    // The screen of the state the session is at, starting CON.
    private static string Screen(UssdSession s, List<BorrowerPlan> plans, UssdWords w)
    {
        var p = plans.FirstOrDefault(x => x.Plan.Id == s.PlanId);
        string F(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
        var body = s.State switch
        {
            Choose => w.Choose + "\n" + string.Join("\n", plans.Select((x, i) => $"{i + 1}. {x.Plan.Reference} {x.Device.Model}")),
            Balance when p!.AmountNow > 0 || p.State.NextDueDate is not null => F(w.Balance, p.Money(p.State.AmountOverdue), p.Money(p.State.NextDueAmount),
                p.State.NextDueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-", p.Money(p.State.Outstanding)) + "\n" + w.Back,
            Balance => F(w.BalanceNothing, p!.Money(p.State.Outstanding)) + "\n" + w.Back,
            Pay when p!.AmountNow > 0 && p.AmountNow < p.State.Outstanding =>
                F(w.Pay, Phones.Masked(s.Phone), p.Money(p.AmountNow), p.Money(p.State.Outstanding)) + "\n" + w.Back,
            Pay => F(w.PayFull, Phones.Masked(s.Phone), p!.Money(p.State.Outstanding)) + "\n" + w.Back,
            Dispute => w.DisputeMenu + "\n" + w.Back,
            DisputePaid => w.Reference + "\n" + w.Back,
            DisputeOther => w.Text + "\n" + w.Back,
            _ => F(w.Home, p!.Lender.Name + " " + p.Plan.Reference) + (plans.Count > 1 ? "\n0. " + w.Back[3..w.Back.IndexOf(' ', 3)] : ""),
        };
        return "CON " + body;
    }
}
