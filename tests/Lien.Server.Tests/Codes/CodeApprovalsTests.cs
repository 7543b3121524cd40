using System.Security.Cryptography;
using Lien.Protocol.Codes;
using Lien.Server.Codes;
using Lien.Server.Storage;

namespace Lien.Server.Tests.Codes;

/// <summary>The approval token alone, without a host: what it binds, and what it refuses.</summary>
public sealed class CodeApprovalsTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly byte[] MasterKey = RandomNumberGenerator.GetBytes(32);
    private readonly CodeApprovals _approvals = new(new SecretBox(MasterKey));
    private readonly Guid _lender = Guid.NewGuid();
    private readonly CodeApproval _approval = new(Guid.NewGuid(), 4, "ak0123456789ab", Now + CodeApprovals.Lifetime);

    [Fact]
    public void Check_AsGranted_TheApproval() =>
        Assert.Equal(_approval, _approvals.Check(_approvals.Grant(_lender, 1, TokenType.DisablePayg, _approval), _lender, 1, _approval.DeviceId, TokenType.DisablePayg, Now, out _));

    [Fact]
    public void Check_AnotherLenderTypeOrMasterKey_NotGenuine()
    {
        var token = _approvals.Grant(_lender, 1, TokenType.DisablePayg, _approval);
        var elsewhere = new CodeApprovals(new SecretBox(RandomNumberGenerator.GetBytes(32)));
        foreach (var (approvals, lender, type) in new[] { (_approvals, Guid.NewGuid(), TokenType.DisablePayg), (_approvals, _lender, TokenType.SetTime), (elsewhere, _lender, TokenType.DisablePayg) })
        {
            Assert.Null(approvals.Check(token, lender, 1, _approval.DeviceId, type, Now, out var why));
            Assert.Contains("not one this server granted", why);
        }
    }

    [Fact]
    public void Check_DeviceEnrolledAgainSince_Refused()
    {
        var token = _approvals.Grant(_lender, 1, TokenType.DisablePayg, _approval);
        Assert.Null(_approvals.Check(token, _lender, 2, _approval.DeviceId, TokenType.DisablePayg, Now, out var why));
        Assert.Contains("enrolled again", why);
    }

    [Fact]
    public void Check_AnyOneCharacterChanged_NotGenuineNeverAnException()
    {
        var token = _approvals.Grant(_lender, 1, TokenType.DisablePayg, _approval);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for (var i = 0; i < token.Length; i++)
            foreach (var c in alphabet.Where(c => c != token[i]))
            {
                var altered = token[..i] + c + token[(i + 1)..];
                Assert.True(_approvals.Check(altered, _lender, 1, _approval.DeviceId, TokenType.DisablePayg, Now, out var why) is null, altered);
                Assert.NotEmpty(why);
            }
    }

    [Fact]
    public void Check_AtItsExpiry_Expired()
    {
        var token = _approvals.Grant(_lender, 1, TokenType.DisablePayg, _approval);
        Assert.NotNull(_approvals.Check(token, _lender, 1, _approval.DeviceId, TokenType.DisablePayg, _approval.ExpiresAt.AddSeconds(-1), out _));
        Assert.Null(_approvals.Check(token, _lender, 1, _approval.DeviceId, TokenType.DisablePayg, _approval.ExpiresAt, out var why));
        Assert.Contains("expired", why);
    }
}
