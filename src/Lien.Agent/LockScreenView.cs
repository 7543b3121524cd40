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
    IReadOnlyList<LockScreenAction> Actions)
{
    /// <summary>Emergency call, enter unlock code, refresh: on every screen.</summary>
    internal static readonly IReadOnlyList<LockScreenAction> AlwaysOffered =
        [LockScreenAction.EmergencyCall, LockScreenAction.EnterUnlockCode, LockScreenAction.Refresh];

    /// <summary>The screen for <paramref name="state"/> at <paramref name="trustedNow"/>.</summary>
    public static LockScreenView Of(AgentState state, DateTimeOffset trustedNow)
    {
        var mode = state.EffectiveMode(trustedNow);
        if (state.Lease is not { Claims: var c })
            return new LockScreenView(false, mode, "", null, null, null, null, null, null,
                "This device is not enrolled with a lender.", "", AlwaysOffered);
        var s = c.Screen;
        // An Unlocked lease that ran out locks with the content it carried for that moment (see PROTOCOL §3, amountDueMinor).
        var due = s.AmountDueMinor > 0 ? new Money(s.AmountDueMinor, s.Currency).ToString() : null;
        string? howToPay = s.PayReference is null ? null
            : s.PayUrl is null ? $"Pay {s.Lender}, account {s.PayReference}" : $"Pay with account {s.PayReference} at {s.PayUrl}";
        return new LockScreenView(mode == LeaseMode.Locked, mode, s.Lender, s.LogoUrl, due, howToPay, s.SupportPhone, s.ShortCode, s.PayUrl,
            s.Message, c.Reason, AlwaysOffered);
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
            _ => "Refresh",
        }}]"));
    }
}
