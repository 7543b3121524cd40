using System.Security.Cryptography;
using Lien.Protocol;
using Lien.Protocol.Codes;

namespace Lien.Agent.Tests;

/// <summary>The OpenPAYGO extension on the device: codes the server would issue, typed on the lock screen.</summary>
public sealed class OfflineCodeTests : IDisposable
{
    private readonly TestLeases _t = new();
    private readonly OpenPaygoCodes _codes = new();
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(16);
    private const long StartingCode = 123_456_789;
    private int _serverCount = 4; // codes issued before this device (re-)enrolled

    public void Dispose() => _t.Dispose();

    private static DeviceTime At(double days) => new(TestLeases.T0.AddDays(days), TestLeases.Boot.Elapsed + TimeSpan.FromDays(days));

    // An enrolled device holding a Locked lease, with the code secret sealed to its own key as the server sends it.
    private AgentState LockedDevice()
    {
        var identity = DeviceKeys.NewIdentity(_t.Imeis);
        using var key = DeviceKeys.Open(identity);
        var sealedSecret = SealedCodeSecret.Seal(_secret, key.ExportSubjectPublicKeyInfo(), _t.DeviceId);
        var lease = _t.Lease(1, LeaseMode.Locked);
        var response = _t.Enrollment(lease, 1, identity: identity) with { Codes = new OfflineCodes(sealedSecret, StartingCode, _serverCount, false, 1) };
        var s = Agent.Next(AgentState.New(identity), new Booted(TestLeases.Boot)).State;
        return Agent.Next(s, _t.Answer(response, TestLeases.Boot), _codes).State;
    }

    private string Issue(TokenType type, int value = 0)
    {
        var issued = TokenEncoder.Encode(new TokenDevice(SipHashKey.FromBytes(_secret), StartingCode), _serverCount, type, value);
        _serverCount = issued.NewCount;
        return issued.Token;
    }

    private (AgentState State, IReadOnlyList<AgentEffect> Effects) Type(AgentState s, string code, double atDays) =>
        Agent.Next(s, new CodeEntered(code, At(atDays)), _codes);

    [Fact]
    public void AddTime_OnALockedPhone_UnlocksForThoseDaysThenLocksAgain()
    {
        var s = LockedDevice();
        Assert.True(s.Locked);
        var (unlocked, effects) = Type(s, Issue(TokenType.AddTime, 7), 0.5);
        Assert.False(unlocked.Locked);
        Assert.Contains(effects, e => e is UnlockNow);
        Assert.Equal(TestLeases.T0.AddDays(7.5), unlocked.UnlockedUntil);
        var later = Agent.Next(unlocked, new Tick(At(7.5)), _codes).State;
        Assert.True(later.Locked);
    }

    [Fact]
    public void AddTime_Twice_ExtendsFromTheCurrentDeadlineNotFromNow()
    {
        var s = Type(LockedDevice(), Issue(TokenType.AddTime, 7), 0).State;
        s = Type(s, Issue(TokenType.AddTime, 3), 1).State;
        Assert.Equal(TestLeases.T0.AddDays(10), s.UnlockedUntil);
    }

    [Fact]
    public void SameCodeTwice_SecondRefusedAndNotCountedAsWrong()
    {
        var code = Issue(TokenType.AddTime, 2);
        var s = Type(LockedDevice(), code, 0).State;
        var (again, effects) = Type(s, code, 0.1);
        Assert.Contains("already been used", Assert.Single(effects.OfType<CodeRefused>()).Message);
        Assert.Equal(s.UnlockedUntil, again.UnlockedUntil);
    }

    [Fact]
    public void CodesIssuedBeforeEnrollment_AreRefused()
    {
        var old = TokenEncoder.Encode(new TokenDevice(SipHashKey.FromBytes(_secret), StartingCode), 2, TokenType.AddTime, 30).Token;
        var (s, effects) = Type(LockedDevice(), old, 0);
        Assert.NotEmpty(effects.OfType<CodeRefused>());
        Assert.True(s.Locked);
    }

    [Fact]
    public void WrongCodes_FiveFreeThenWaitsDoubling_EvenAGoodCodeWaits()
    {
        var s = LockedDevice();
        for (var i = 0; i < OpenPaygoCodes.FreeWrongCodes; i++) s = Type(s, "111111111", 0).State;
        s = Type(s, "111111112", 0).State; // the sixth wrong code starts a 1-minute wait
        var good = Issue(TokenType.AddTime, 3);
        var (waiting, effects) = Type(s, good, 0.0003);
        Assert.Contains("Too many wrong codes", Assert.Single(effects.OfType<CodeRefused>()).Message);
        Assert.True(waiting.Locked);
        var after = Type(waiting, good, 0.0008).State; // 1.15 minutes later
        Assert.False(after.Locked);

        // A good code clears the count. Six wrong again: a minute's wait; after it, a seventh wrong code waits two.
        s = after;
        for (var i = 0; i <= OpenPaygoCodes.FreeWrongCodes; i++) s = Type(s, "222222222", 0.001).State;
        s = Type(s, "333333333", 0.001 + 1.2 / 1440).State;
        var (_, second) = Type(s, Issue(TokenType.AddTime, 1), 0.001 + 2.7 / 1440);
        Assert.Contains("Too many wrong codes", Assert.Single(second.OfType<CodeRefused>()).Message);
    }

    [Fact]
    public void WrongCodes_WallClockSetForward_DoesNotShortenTheWait()
    {
        var s = LockedDevice();
        for (var i = 0; i <= OpenPaygoCodes.FreeWrongCodes; i++) s = Type(s, "111111111", 0).State;
        // A day later by the wall clock, ten seconds later by the monotonic clock.
        var tampered = new DeviceTime(TestLeases.T0.AddDays(1), At(0).Elapsed + TimeSpan.FromSeconds(10));
        var (_, effects) = Agent.Next(s, new CodeEntered(Issue(TokenType.AddTime, 3), tampered), _codes);
        Assert.Contains("Too many wrong codes", Assert.Single(effects.OfType<CodeRefused>()).Message);
    }

    [Fact]
    public void DisablePayg_ReleasesUntilANewerLeaseSaysOtherwise()
    {
        var (s, effects) = Type(LockedDevice(), Issue(TokenType.DisablePayg), 0);
        Assert.Equal(LeaseMode.Released, s.EffectiveMode(s.TrustedNow(At(400))));
        Assert.Contains(effects, e => e is UnlockNow);
        var next = Agent.Next(s, new LeaseReceived(_t.Lease(2, LeaseMode.Released), At(1)), _codes).State;
        Assert.Equal(LeaseMode.Released, next.EffectiveMode(next.TrustedNow(At(2))));
    }

    [Fact]
    public void NewerOnlineLease_SupersedesWhatCodesSet()
    {
        var s = Type(LockedDevice(), Issue(TokenType.AddTime, 30), 0).State;
        Assert.False(s.Locked);
        var next = Agent.Next(s, new LeaseReceived(_t.Lease(2, LeaseMode.Locked), At(1)), _codes).State;
        Assert.True(next.Locked);
        Assert.Null(next.CodeUnlockedUntil);
    }

    [Fact]
    public void SetTime_SetsTheDeadlineFromNow()
    {
        var s = Type(LockedDevice(), Issue(TokenType.AddTime, 30), 0).State;
        s = Type(s, Issue(TokenType.SetTime, 2), 1).State;
        Assert.Equal(TestLeases.T0.AddDays(3), s.CodeUnlockedUntil);
    }

    [Fact]
    public void WrongCodes_CountedSinceEnrollment_AGoodCodeDoesNotResetTheCount()
    {
        var s = LockedDevice();
        Assert.Equal(0, _codes.WrongCodes(s));
        for (var i = 0; i < 3; i++) s = Type(s, "111111111", 0).State;
        s = Type(s, Issue(TokenType.AddTime, 1), 0).State; // accepted: resets the rate limit, not the report
        s = Type(s, "222222222", 0).State;
        s = Type(s, Issue(TokenType.AddTime, 1), 0).State;
        s = Type(s, Issue(TokenType.AddTime, 1), 0).State;
        var used = Issue(TokenType.AddTime, 1);
        s = Type(Type(s, used, 0).State, used, 0).State; // already used: a genuine code again, not a wrong one

        Assert.Equal(4, _codes.WrongCodes(s));
        Assert.Equal(0, _codes.WrongCodes(LockedDevice())); // enrolled again: counted from zero
        Assert.Equal(0, _codes.WrongCodes(AgentState.New(DeviceKeys.NewIdentity(_t.Imeis)))); // codes not set up
    }

    [Fact]
    public void CounterSync_TypedAgain_AcceptedButDoesNotClearTheWrongCodeLimit()
    {
        var sync = Issue(TokenType.CounterSync);
        var s = Type(LockedDevice(), sync, 0).State;
        for (var i = 0; i <= OpenPaygoCodes.FreeWrongCodes; i++) s = Type(s, "111111111", 0).State; // the sixth starts a 1-minute wait

        var (again, effects) = Type(s, sync, 2.0 / 1440); // after the wait: accepted again, as the reference accepts it
        Assert.Empty(effects.OfType<CodeRefused>());
        var (_, wrong) = Type(again, "111111112", 2.1 / 1440); // the seventh wrong code: still counted from six, a 2-minute wait
        Assert.Equal("Wrong code. Check it and try again.", Assert.Single(wrong.OfType<CodeRefused>()).Message);
        var waiting = Type(again, "111111112", 2.1 / 1440).State;
        var (_, blocked) = Type(waiting, Issue(TokenType.AddTime, 1), 3.0 / 1440);
        Assert.Contains("Too many wrong codes", Assert.Single(blocked.OfType<CodeRefused>()).Message);
        Assert.Equal(OpenPaygoCodes.FreeWrongCodes + 2, _codes.WrongCodes(waiting));
    }
}
