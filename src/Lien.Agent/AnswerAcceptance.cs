using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>The verdict on one answer from the server: what to take from it when accepted, otherwise why not.</summary>
internal sealed record AnswerVerdict<T>(T? Answer, KeySetClaims? KeySet, RefusalReason? Reason, string Detail, string? AnswerKey = null)
    where T : class;

/// <summary>
/// What the agent checks before it acts on an answer (docs/PROTOCOL.md §1, §2, §3 "Trust keys"): the
/// <c>Lien-Signature</c> over the exact body, the echoed nonce, and the key-set statement it carries. Pure: reads only the
/// state and the bytes.
/// </summary>
internal static class AnswerAcceptance
{
    /// <summary>
    /// An enrollment answer: its key set well formed (every listed key signed it) and acceptable to this device, the body
    /// signed ES256 by a key of that set, the nonce this request sent echoed, the answer key opening with the device key.
    /// </summary>
    public static AnswerVerdict<EnrollResponse> Enrollment(AgentState state, Enrolled e)
    {
        if (Parse<EnrollResponse>(e.Body) is not { KeySet: not null, Lease: not null, DeviceToken: not null } r)
            return new(null, null, RefusalReason.AnswerMalformed, "the enrollment answer does not parse");
        if (r.KeySet.Verify(r.LenderId, state.KeySet?.Keys ?? [], out var signers, out var problem) is not { } offered)
            return new(null, null, RefusalReason.KeySet, problem!);
        if (Signed(e, offered) is { } bad) return new(null, null, RefusalReason.AnswerSignature, bad);
        if (r.Nonce != e.Nonce) return new(null, null, RefusalReason.AnswerNonce, "the answer does not echo this request's nonce: an old answer");
        if (Follow(state, offered, signers) is var (keySet, why) && keySet is null) return new(null, null, RefusalReason.KeySet, why!);
        string answerKey;
        try
        {
            using var deviceKey = DeviceKeys.Open(state.Identity);
            var opened = r.AnswerKey?.Open(deviceKey, r.DeviceId) ?? throw new CryptographicException("no answer key");
            if (opened.Length != AnswerSignature.AnswerKeyBytes) throw new CryptographicException("the answer key is not 32 bytes");
            answerKey = Convert.ToBase64String(opened);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return new(null, null, RefusalReason.AnswerMalformed, "the answer key does not open with the device key: " + ex.Message);
        }
        return new(r, keySet, null, "accepted", answerKey);
    }

    /// <summary>
    /// A check-in answer: signed HS256 under the enrollment's answer key, echoing the nonce this request sent. Its key set
    /// is judged by <see cref="Follow(AgentState, KeySetStatement, Guid)"/> separately: a refused set leaves the trust as it was.
    /// </summary>
    public static AnswerVerdict<CheckInResponse> CheckIn(AgentState state, CheckedIn e)
    {
        if (state.Enrollment is not { } enrollment) return new(null, null, RefusalReason.NotEnrolled, "the device has not enrolled");
        if (AnswerSignature.VerifyHs256(e.Signature, e.Body, Convert.FromBase64String(enrollment.AnswerKey)) is { } bad)
            return new(null, null, RefusalReason.AnswerSignature, bad);
        if (Parse<CheckInResponse>(e.Body) is not { KeySet: not null, Lease: not null } r)
            return new(null, null, RefusalReason.AnswerMalformed, "the check-in answer does not parse");
        if (r.Nonce != e.Nonce) return new(null, null, RefusalReason.AnswerNonce, "the answer does not echo this request's nonce: an old answer");
        return new(r, state.KeySet, null, "accepted");
    }

    /// <summary>
    /// The key set to trust after <paramref name="statement"/> arrived for <paramref name="lenderId"/>: the one held when the
    /// statement is not newer; the statement's when it is newer, well formed, and signed by a key the device already
    /// trusts (same kid, same key; the key it revokes counts, as the revocation's last signature); null (and why) when it
    /// must be refused.
    /// </summary>
    public static (KeySetClaims? KeySet, string? Problem) Follow(AgentState state, KeySetStatement statement, Guid lenderId)
    {
        // Every answer carries the set; only a newer one costs a signature check.
        if (state.KeySet is { } held && held.LenderId == lenderId && Peek(statement) is { } version && version <= held.Version) return (held, null);
        return statement.Verify(lenderId, state.KeySet?.Keys ?? [], out var signers, out var problem) is { } offered
            ? Follow(state, offered, signers)
            : (null, problem);
    }

    private static (KeySetClaims? KeySet, string? Problem) Follow(AgentState state, KeySetClaims offered, IReadOnlyList<string> signers)
    {
        if (state.KeySet is not { } held || held.LenderId != offered.LenderId)
        {
            // First contact (or after a factory reset): the set vouches for itself, and for the key the QR code pinned.
            if (state.KeySet is not null && state.Lease is { Claims.Mode: not LeaseMode.Released })
                return (null, $"the device trusts lender {state.KeySet.LenderId}'s keys and is not released");
            if (state.Identity.PinnedKey is { } pin && !offered.Keys.Any(k => k.Thumbprint() == pin))
                return (null, "the key set does not list the key the provisioning code pinned");
            return (offered, null);
        }
        if (offered.Version < held.Version) return (null, $"version {offered.Version} is older than the trusted {held.Version}");
        if (offered.Version == held.Version) return (held, null);
        // A listed signer must be listed as the device knows it; a revoked signer was checked with the device's own copy.
        if (!signers.Any(kid => held.Keys.FirstOrDefault(h => h.Kid == kid) is { } h
                && (offered.Keys.FirstOrDefault(k => k.Kid == kid) is not { } k || (h.X == k.X && h.Y == k.Y))))
            return (null, "no key the device trusts signed the new key set");
        if (offered.Keys.FirstOrDefault(k => held.Revoked.Contains(k.Kid) || held.Keys.Any(h => h.Kid == k.Kid && (h.X != k.X || h.Y != k.Y))) is { } back)
            return (null, $"the new key set brings back revoked key '{back.Kid}' or changes it");
        return (offered, null);
    }

    // An enrollment answer's ES256 detached signature, by a key of the set it carries.
    private static string? Signed(Enrolled e, KeySetClaims keySet)
    {
        var opened = new List<ECDsa>();
        try
        {
            return AnswerSignature.VerifyEs256(e.Signature, e.Body, kid =>
            {
                if (keySet.Keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa() is not { } key) return null;
                opened.Add(key);
                return key;
            });
        }
        finally
        {
            foreach (var k in opened) k.Dispose();
        }
    }

    // The version a statement claims, read without checking it: enough to see that it is not news.
    private static long? Peek(KeySetStatement statement)
    {
        try
        {
            return statement.Payload is { Length: < 64 * 1024 } p ? JsonSerializer.Deserialize<KeySetClaims>(Base64Url.DecodeFromChars(p), LeaseClaims.Json)?.Version : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    private static T? Parse<T>(byte[] body) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, LeaseClaims.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
