using System.Security.Cryptography;
using System.Text.Json;
using Lien.Protocol;

namespace Lien.Agent;

/// <summary>The verdict on one received lease: its claims when accepted, otherwise why not.</summary>
internal sealed record LeaseVerdict(LeaseClaims? Claims, RefusalReason? Reason, string Detail);

/// <summary>docs/PROTOCOL.md §3 "Acceptance rules", applied all and in order. Pure: reads only the state and the text.</summary>
internal static class LeaseAcceptance
{
    /// <summary>Checks <paramref name="jws"/> against what <paramref name="state"/> holds.</summary>
    public static LeaseVerdict Check(AgentState state, string jws)
    {
        if (state.Enrollment is not { } enrollment || state.KeySet is not { } keySet)
            return Refused(RefusalReason.NotEnrolled, "the device has not enrolled");

        // Rules 1-3: canonical segments, ES256 and typ before any key is touched, a trusted kid not revoked, the signature.
        var keys = new List<ECDsa>();
        JwsResult verified;
        var revoked = false;
        try
        {
            verified = Jws.Verify(jws, kid => (revoked = keySet.Revoked.Contains(kid)) ? null : Trusted(keySet, kid, keys), LeaseClaims.MediaType);
        }
        finally
        {
            foreach (var k in keys) k.Dispose();
        }
        if (!verified.Valid) return Refused(revoked ? RefusalReason.RevokedKey : Classify(verified.Reason!), verified.Reason!);

        LeaseClaims? claims;
        try
        {
            claims = JsonSerializer.Deserialize<LeaseClaims>(verified.Payload, LeaseClaims.Json);
        }
        catch (JsonException e)
        {
            return Refused(RefusalReason.Malformed, "claims do not parse: " + e.Message);
        }
        if (claims is null || claims.Imeis is null || claims.Screen is null || claims.Reason is null)
            return Refused(RefusalReason.Malformed, "claims are incomplete");

        // Rule 4: this device's registration and one of its own IMEIs.
        if (claims.DeviceId != enrollment.DeviceId || !claims.Imeis.Any(state.Identity.Imeis.Contains))
            return Refused(RefusalReason.WrongDevice, $"lease is for device {claims.DeviceId}");
        // Rule 5: strictly newer than the held lease.
        if (claims.Seq <= state.AppliedSeq)
            return Refused(RefusalReason.Replay, $"seq {claims.Seq} is not above the held seq {state.AppliedSeq}");
        // Rule 6: Released is final.
        if (state.Lease?.Claims.Mode == LeaseMode.Released)
            return Refused(RefusalReason.ReleasedFinal, "the device is released; nothing else applies");
        return new LeaseVerdict(claims, null, "accepted");
    }

    private static ECDsa? Trusted(KeySetClaims keySet, string kid, List<ECDsa> opened)
    {
        var jwk = keySet.Keys.FirstOrDefault(k => k.Kid == kid);
        if (jwk is null) return null;
        try
        {
            var key = jwk.ToECDsa();
            opened.Add(key);
            return key;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    // Jws.Verify words its refusals; the rule each one breaks is in its opening words.
    private static RefusalReason Classify(string reason) => reason switch
    {
        _ when reason.StartsWith("algorithm", StringComparison.Ordinal) => RefusalReason.Algorithm,
        _ when reason.StartsWith("type", StringComparison.Ordinal) => RefusalReason.Type,
        _ when reason.StartsWith("unknown signing key", StringComparison.Ordinal) || reason == "no kid" => RefusalReason.UnknownKey,
        _ when reason.StartsWith("bad signature", StringComparison.Ordinal) => RefusalReason.BadSignature,
        _ => RefusalReason.Malformed,
    };

    private static LeaseVerdict Refused(RefusalReason reason, string detail) => new(null, reason, detail);
}
