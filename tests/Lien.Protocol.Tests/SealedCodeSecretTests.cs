using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lien.Tests.Codes;

namespace Lien.Protocol.Tests;

/// <summary>
/// The enrollment answer's <c>codes</c> member as docs/PROTOCOL.md §7 spells it: the worked vector and the member table
/// are read from the document itself, so a change to either side that is not made to the other fails here.
/// </summary>
public sealed partial class SealedCodeSecretTests
{
    private static readonly string Protocol = File.ReadAllText(Path.Combine(ConformanceFiles.RepositoryRoot, "docs", "PROTOCOL.md"));

    // "name = value" lines of the fenced block; an indented "(SHA-256 of "label")" line says where the value above came from.
    private static Dictionary<string, string> Vector()
    {
        var block = VectorBlock().Match(Protocol);
        Assert.True(block.Success, "docs/PROTOCOL.md has no ```text lien-code-secret-vector block");
        var values = new Dictionary<string, string>();
        string? last = null;
        foreach (var line in block.Groups[1].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (LabelLine().Match(line) is { Success: true } label)
            {
                values[last + " label"] = label.Groups[1].Value;
                continue;
            }
            var eq = line.IndexOf(" = ", StringComparison.Ordinal);
            Assert.True(eq > 0, $"not a 'name = value' line: {line}");
            last = line[..eq].Trim();
            values[last] = line[(eq + 3)..].Trim();
        }
        return values;
    }

    private static byte[] Hex(Dictionary<string, string> v, string name) => Convert.FromHexString(v[name]);

    private static ECParameters Private(byte[] d) => new() { Curve = ECCurve.NamedCurves.nistP256, D = d };

    [Fact]
    public void Seal_DocumentedVector_EveryFieldAndStepAsDocumented()
    {
        var v = Vector();
        var deviceD = Hex(v, "device private key d (hex)");
        var ephemeralD = Hex(v, "ephemeral private key (hex)");
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(v["device private key d (hex) label"])), deviceD);
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(v["ephemeral private key (hex) label"])), ephemeralD);
        using var device = ECDiffieHellman.Create(Private(deviceD));
        using var ephemeral = ECDiffieHellman.Create(Private(ephemeralD));
        var deviceSpki = device.ExportSubjectPublicKeyInfo();
        Assert.Equal(v["device publicKey (base64 SPKI)"], Convert.ToBase64String(deviceSpki));
        var deviceId = Guid.Parse(v["device id"]);
        var secret = Hex(v, "secret (hex)");

        var sealedSecret = SealedCodeSecret.Seal(secret, deviceSpki, deviceId, ephemeral, Hex(v, "nonce (hex)"));

        Assert.Equal(v["secret.ephemeralPublicKey"], sealedSecret.EphemeralPublicKey);
        Assert.Equal(v["secret.nonce"], sealedSecret.Nonce);
        Assert.Equal(v["secret.ciphertext"], sealedSecret.Ciphertext);
        // The steps, each from the BCL on its own: ECDH X coordinate, HKDF with empty salt, RFC 4122 byte order.
        var z = device.DeriveRawSecretAgreement(ephemeral.PublicKey);
        Assert.Equal(Hex(v, "ECDH Z (hex)"), z);
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, z, 32, salt: new byte[32], info: "lien-code-secret-v1"u8.ToArray());
        Assert.Equal(Hex(v, "HKDF output, the AES key (hex)"), key);
        Assert.Equal(Hex(v, "associated data (hex)"), Convert.FromHexString(v["device id"].Replace("-", "", StringComparison.Ordinal)));
        Assert.Equal(Hex(v, "ciphertext || tag (hex)"), Convert.FromBase64String(sealedSecret.Ciphertext));
        var opened = new byte[16];
        using (var aes = new AesGcm(key, 16))
            aes.Decrypt(Convert.FromBase64String(sealedSecret.Nonce), Hex(v, "ciphertext || tag (hex)").AsSpan(0, 16),
                Hex(v, "ciphertext || tag (hex)").AsSpan(16), opened, Hex(v, "associated data (hex)"));
        Assert.Equal(secret, opened);
    }

    [Fact]
    public void Open_DocumentedVector_TheSecretWithTheDeviceKeyAndIdOnly()
    {
        var v = Vector();
        using var deviceKey = ECDsa.Create(Private(Hex(v, "device private key d (hex)")));
        var sealedSecret = new SealedCodeSecret(v["secret.ephemeralPublicKey"], v["secret.nonce"], v["secret.ciphertext"]);
        var deviceId = Guid.Parse(v["device id"]);

        Assert.Equal(Hex(v, "secret (hex)"), sealedSecret.Open(deviceKey, deviceId));
        // The id in .NET's default (mixed-endian) byte order is another associated data: the tag does not verify.
        var swapped = new Guid(deviceId.ToByteArray(), bigEndian: true);
        Assert.ThrowsAny<CryptographicException>(() => sealedSecret.Open(deviceKey, swapped));
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.ThrowsAny<CryptographicException>(() => sealedSecret.Open(stranger, deviceId));
    }

    [Fact]
    public void Json_DocumentedMembers_ExactlyWhatTheAnswerCarries()
    {
        var section = Protocol[Protocol.IndexOf("### The `codes` member", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n### ", 5, StringComparison.Ordinal)];
        var documented = MemberRow().Matches(section).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToList();
        var codes = new OfflineCodes(new SealedCodeSecret("e", "n", "c"), 516_959_010, 0, false, 1);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(codes, LeaseClaims.Json));

        Assert.Equal(documented, Paths(json.RootElement, "").Order(StringComparer.Ordinal).ToList());
    }

    private static IEnumerable<string> Paths(JsonElement e, string prefix) =>
        e.EnumerateObject().SelectMany(p => p.Value.ValueKind == JsonValueKind.Object ? Paths(p.Value, prefix + p.Name + ".") : [prefix + p.Name]);

    [GeneratedRegex(@"```text lien-code-secret-vector\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex VectorBlock();

    [GeneratedRegex(@"^\s+\(SHA-256 of ""([^""]+)""\)\s*$")]
    private static partial Regex LabelLine();

    [GeneratedRegex(@"^\| `([a-zA-Z.]+)` \|", RegexOptions.Multiline)]
    private static partial Regex MemberRow();
}
