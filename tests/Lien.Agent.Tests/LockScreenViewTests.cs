using Lien.Protocol;

namespace Lien.Agent.Tests;

/// <summary>The lock screen's words follow the state the phone is in, whatever the lease carried for later.</summary>
public class LockScreenViewTests
{
    private static readonly DateTimeOffset T0 = TestLeases.T0;
    private const string Offline = "This device has been offline too long. Connect to the internet, or ask your lender for an unlock code.";

    private static readonly LockScreen OfflineScreen = TestLeases.Screen with { AmountDueMinor = 0, Message = Offline };
    private static readonly Notice Reminder = new("reminder", 2, T0, 145_000, "KES", T0.AddDays(3), "Reminder: KES 1,450 is due on 2026-03-04.");
    private static readonly Notice Warning = new("lock-warning", 1, T0, 145_000, "KES", T0.AddDays(1), "This device will be locked on 2026-03-02 12:00 unless KES 1,450 is paid.");

    // state, lease (mode, until, screen, notice), code unlocked until, the instant the screen is drawn at → locked?, message, amount due, Help offered
    public static TheoryData<string, LeaseMode?, DateTimeOffset?, LockScreen?, Notice?, DateTimeOffset?, DateTimeOffset, bool, string, string?, bool> States => new()
    {
        { "not enrolled", null, null, null, null, null, T0, false, "This device is not enrolled with a lender.", null, false },
        { "unlocked, payments current", LeaseMode.Unlocked, T0.AddDays(3), OfflineScreen, null, null, T0, false, "This device is unlocked.", null, true },
        { "just paid after a lock (the demo)", LeaseMode.Unlocked, T0.AddDays(3), OfflineScreen, new Notice("unlocked", 0, T0, 0, "KES", null, "Payment received. This device is unlocked."), null, T0, false, "Payment received. This device is unlocked.", null, true },
        { "a reminder", LeaseMode.Unlocked, T0.AddDays(3), OfflineScreen, Reminder, null, T0, false, Reminder.Text, "KES 1,450", true },
        { "a lock warning", LeaseMode.Unlocked, T0.AddDays(1), TestLeases.Screen, Warning, null, T0, false, Warning.Text, "KES 1,450", true },
        { "the warned instant came offline", LeaseMode.Unlocked, T0.AddDays(1), TestLeases.Screen, Warning, null, T0.AddDays(2), true, TestLeases.Screen.Message, "KES 1,450", true },
        { "offline too long", LeaseMode.Unlocked, T0.AddDays(3), OfflineScreen, null, null, T0.AddDays(4), true, Offline, null, true },
        { "locked", LeaseMode.Locked, null, TestLeases.Screen, new Notice("locked", 1, T0, 145_000, "KES", null, "Locked."), null, T0, true, TestLeases.Screen.Message, "KES 1,450", true },
        { "locked, unlocked by a code", LeaseMode.Locked, null, TestLeases.Screen, null, T0.AddDays(2), T0, false, "Unlocked with an unlock code until 2026-03-03 09:00 UTC.", null, true },
        { "no plan", LeaseMode.Unlocked, null, TestLeases.Screen with { AmountDueMinor = 0, Message = "This device has no active financing plan." }, null, null, T0, false, "This device has no active financing plan.", null, true },
        { "released", LeaseMode.Released, null, TestLeases.Screen with { AmountDueMinor = 0, Message = "This device is paid off and released. It is yours." }, null, null, T0, false, "This device is paid off and released. It is yours.", null, false },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void Of_EveryState_WordsThatFitIt(string state, LeaseMode? mode, DateTimeOffset? until, LockScreen? screen, Notice? notice, DateTimeOffset? codeUntil,
        DateTimeOffset at, bool locked, string message, string? amountDue, bool help)
    {
        using var t = new TestLeases();
        var s = mode is null
            ? AgentState.New(t.Identity)
            : t.Enrolled(t.Sign(t.Claims(1, mode.Value, until) with { Screen = screen!, Notice = notice })) with { CodeUnlockedUntil = codeUntil };
        var view = LockScreenView.Of(s, at);
        Assert.True(locked == view.Locked, state);
        Assert.Equal(message, view.Message);
        Assert.Equal(amountDue, view.AmountDue);
        Assert.Equal(help, view.Actions.Contains(LockScreenAction.Help));
        Assert.Contains(LockScreenAction.EmergencyCall, view.Actions); // in every state
        if (!view.Locked) Assert.DoesNotContain(view.Lines(), l => l.Contains("offline too long", StringComparison.Ordinal));
    }

    [Fact]
    public void Next_LeaseWithANewNotice_RaisesItOnce()
    {
        using var t = new TestLeases();
        var s = t.Enrolled(t.Lease(1, until: T0.AddDays(3)));
        var (s2, effects) = Agent.Next(s, new LeaseReceived(t.Sign(t.Claims(2, until: T0.AddDays(3)) with { Notice = Reminder }), TestLeases.Boot));
        Assert.Equal(Reminder, Assert.Single(effects.OfType<NoticeShown>()).Notice);
        // A renewal carrying the same notice (a new amount too) raises nothing; a new kind does.
        var (s3, again) = Agent.Next(s2, new LeaseReceived(t.Sign(t.Claims(3, until: T0.AddDays(4)) with { Notice = Reminder with { AmountMinor = 1 } }), TestLeases.Boot));
        Assert.Empty(again.OfType<NoticeShown>());
        var (_, warned) = Agent.Next(s3, new LeaseReceived(t.Sign(t.Claims(4, until: T0.AddDays(1)) with { Notice = Warning }), TestLeases.Boot));
        Assert.Equal("lock-warning", Assert.Single(warned.OfType<NoticeShown>()).Notice.Kind);
    }
}
