using System.Globalization;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>What the lock screen always offers, in every state.</summary>
public enum LockScreenAction
{
    /// <summary>Dial emergency services: works locked, unlocked and unenrolled.</summary>
    EmergencyCall,
    /// <summary>Open the keypad for an offline unlock code.</summary>
    EnterUnlockCode,
    /// <summary>Check in now.</summary>
    Refresh,
    /// <summary>Contact or help: the lender's phone and short code, and a dispute ("I have paid", or in the borrower's words).</summary>
    Help,
}

/// <summary>
/// The lock screen as the borrower sees it, computed from the state: whether the device is locked, who the lender is,
/// what is due (formatted, e.g. "KES 1,450"), how to pay, where to get help, and the actions that always exist.
/// </summary>
public sealed record LockScreenView(
    bool Locked,
    LeaseMode Mode,
    string Lender,
    string? LogoUrl,
    string? AmountDue,
    string? HowToPay,
    string? SupportPhone,
    string? ShortCode,
    string? PayUrl,
    string Message,
    string Reason,
    IReadOnlyList<LockScreenAction> Actions,
    Notice? Notice = null)
{
    /// <summary>Emergency call, enter unlock code, refresh: on every screen.</summary>
    internal static readonly IReadOnlyList<LockScreenAction> AlwaysOffered =
        [LockScreenAction.EmergencyCall, LockScreenAction.EnterUnlockCode, LockScreenAction.Refresh];

    /// <summary>What an enrolled device offers: the same, and Contact/Help (the lender, and a dispute).</summary>
    internal static readonly IReadOnlyList<LockScreenAction> EnrolledOffers = [.. AlwaysOffered, LockScreenAction.Help];

    /// <summary>
    /// The screen for <paramref name="state"/> at <paramref name="trustedNow"/>. The words follow the state the device is
    /// in, not only the lease: an Unlocked lease's message is what the screen says if the lease runs out, so while it runs
    /// the screen shows the lease's notice (or that the device is unlocked), and the amount due only when a notice or a
    /// lock asks for it.
    /// </summary>
    public static LockScreenView Of(AgentState state, DateTimeOffset trustedNow)
    {
        var mode = state.EffectiveMode(trustedNow);
        if (state.Lease is not { Claims: var c })
            return new LockScreenView(false, mode, "", null, null, null, null, null, null,
                "This device is not enrolled with a lender.", "", AlwaysOffered);
        var s = c.Screen;
        var notice = c.Notice;
        var running = mode == LeaseMode.Unlocked && c.Mode == LeaseMode.Unlocked && c.UnlockedUntil is { } until && trustedNow < until;
        var codeUnlocked = mode == LeaseMode.Unlocked && !running && c.UnlockedUntil is not null || mode == LeaseMode.Unlocked && c.Mode == LeaseMode.Locked;
        var (message, amount) = (mode, running, codeUnlocked) switch
        {
            (LeaseMode.Unlocked, true, _) => (notice?.Text ?? "This device is unlocked.", notice?.AmountMinor ?? 0),
            (LeaseMode.Unlocked, _, true) => (string.Create(CultureInfo.InvariantCulture,
                $"Unlocked with an unlock code until {state.UnlockedUntil:yyyy-MM-dd HH:mm} UTC."), 0),
            // Locked, released, or unlocked with no deadline: the lease's own words (an Unlocked lease that ran out locks with
            // the content it carried for that moment, PROTOCOL §3 amountDueMinor).
            _ => (s.Message, mode == LeaseMode.Locked ? s.AmountDueMinor : 0),
        };
        var due = amount > 0 ? new Money(amount, notice is not null && running ? notice.Currency : s.Currency).ToString() : null;
        string? howToPay = s.PayReference is null || mode == LeaseMode.Released ? null
            : s.PayUrl is null ? $"Pay {s.Lender}, account {s.PayReference}" : $"Pay with account {s.PayReference} at {s.PayUrl}";
        return new LockScreenView(mode == LeaseMode.Locked, mode, s.Lender, s.LogoUrl, due, howToPay, s.SupportPhone, s.ShortCode, s.PayUrl,
            message, c.Reason, mode == LeaseMode.Released ? AlwaysOffered : EnrolledOffers, running ? notice : null);
    }

    /// <summary>The screen as plain text lines, the way a terminal (or a screen reader) shows it.</summary>
    public IEnumerable<string> Lines()
    {
        yield return Locked ? $"LOCKED — {Lender}" : $"{Mode} — {Lender}";
        yield return Message;
        if (AmountDue is not null) yield return $"Amount due: {AmountDue}";
        if (HowToPay is not null) yield return HowToPay;
        if (SupportPhone is not null || ShortCode is not null)
            yield return "Help: " + string.Join(" or dial ", new[] { SupportPhone, ShortCode }.Where(x => x is not null));
        if (Reason.Length > 0) yield return $"Why: {Reason}";
        yield return string.Join(" ", Actions.Select(a => $"[{a switch
        {
            LockScreenAction.EmergencyCall => "Emergency call",
            LockScreenAction.EnterUnlockCode => "Enter unlock code",
            LockScreenAction.Help => "Contact/Help",
            _ => "Refresh",
        }}]"));
    }
}
