using System.Buffers.Text;
using System.Security.Cryptography;

namespace Lien.Protocol;

/// <summary>A lender's public lease-signing key as a JWK (kty EC, crv P-256, alg ES256, use sig).</summary>
public sealed record TrustKey(string Kid, string Kty, string Crv, string X, string Y)
{
    /// <summary>The one algorithm the key signs with (RFC 7517 §4.4): always <c>ES256</c>.</summary>
    public string Alg { get; init; } = "ES256";

    /// <summary>What the key is for (RFC 7517 §4.2): always <c>sig</c>.</summary>
    public string Use { get; init; } = "sig";

    /// <summary>The JWK of a P-256 public key.</summary>
    public static TrustKey From(string kid, ECDsa key)
    {
        var p = key.ExportParameters(false);
        return new TrustKey(kid, "EC", "P-256", Base64Url.EncodeToString(p.Q.X), Base64Url.EncodeToString(p.Q.Y));
    }

    /// <summary>
    /// The RFC 7638 JWK thumbprint: base64url SHA-256 of <c>{"crv":"P-256","kty":"EC","x":"…","y":"…"}</c>. What a
    /// provisioning QR code names to pin the lender's key before first contact.
    /// </summary>
    public string Thumbprint() =>
        Base64Url.EncodeToString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{{\"crv\":\"{Crv}\",\"kty\":\"{Kty}\",\"x\":\"{X}\",\"y\":\"{Y}\"}}")));

    /// <summary>Imports the public key; throws <see cref="CryptographicException"/> for a bad JWK.</summary>
    public ECDsa ToECDsa()
    {
        if (Kty != "EC" || Crv != "P-256" || Alg != "ES256" || Use != "sig") throw new CryptographicException("only EC P-256 ES256 signing keys are accepted");
        var x = Base64Url.DecodeFromChars(X);
        var y = Base64Url.DecodeFromChars(Y);
        if (x.Length != 32 || y.Length != 32) throw new CryptographicException("bad P-256 coordinates");
        return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
    }
}
