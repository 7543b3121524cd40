using System.Buffers.Text;
using System.Security.Cryptography;

namespace Lien.Protocol;

/// <summary>A lender's public lease-signing key as a JWK (kty EC, crv P-256).</summary>
public sealed record TrustKey(string Kid, string Kty, string Crv, string X, string Y)
{
    /// <summary>The JWK of a P-256 public key.</summary>
    public static TrustKey From(string kid, ECDsa key)
    {
        var p = key.ExportParameters(false);
        return new TrustKey(kid, "EC", "P-256", Base64Url.EncodeToString(p.Q.X), Base64Url.EncodeToString(p.Q.Y));
    }

    /// <summary>
    /// The key's JWK thumbprint (RFC 7638: SHA-256 of the required members in lexicographic order, base64url) — what a
    /// provisioning QR code pins so the phone trusts this key before it first talks to the server.
    /// </summary>
    public string Thumbprint() => Base64Url.EncodeToString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
        $$"""{"crv":"{{Crv}}","kty":"{{Kty}}","x":"{{X}}","y":"{{Y}}"}""")));

    /// <summary>Imports the public key; throws <see cref="CryptographicException"/> for a bad JWK.</summary>
    public ECDsa ToECDsa()
    {
        if (Kty != "EC" || Crv != "P-256") throw new CryptographicException("only EC P-256 keys are accepted");
        var x = Base64Url.DecodeFromChars(X);
        var y = Base64Url.DecodeFromChars(Y);
        if (x.Length != 32 || y.Length != 32) throw new CryptographicException("bad P-256 coordinates");
        return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
    }
}
