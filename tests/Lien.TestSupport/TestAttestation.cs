using System.Security.Cryptography;
using Lien.Agent;
using Lien.Attestation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lien.TestSupport;

/// <summary>
/// The test attestation authorities every test server trusts (<c>Lien:Attestation:TrustedRoots</c>), issuing chains in
/// Android's exact format, and the attestation status list they are checked against, served over loopback HTTP
/// (<c>Lien:Attestation:StatusListUrl</c>). <see cref="Authority"/> is in good standing; <see cref="Revoked"/>'s
/// intermediate is listed REVOKED. Nothing else trusts them.
/// </summary>
public static class TestAttestation
{
    // Valid from 2019 (the fake clocks start in 2026) for 20 years.
    private static readonly FakeTimeProvider Since2019 = new(new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public static AttestationAuthority Authority { get; } = AttestationAuthority.Create(Since2019, "Lien Test Attestation");

    public static AttestationAuthority Revoked { get; } = AttestationAuthority.Create(Since2019, "Lien Revoked Attestation");

    private static readonly Lazy<string> RootsFile = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"lien-test-attestation-roots-{Environment.ProcessId}.pem");
        var pem = string.Concat(new[] { Authority, Revoked }.Select(a => new string(PemEncoding.Write("PUBLIC KEY", a.RootPublicKey)) + "\n"));
        File.WriteAllText(path, pem);
        return path;
    });

    private static readonly Lazy<Task<string>> StatusListUrl = new(StartStatusListAsync);

    /// <summary>The settings a server needs to trust the authorities and reach the status list.</summary>
    public static async Task<IEnumerable<KeyValuePair<string, string?>>> SettingsAsync() =>
    [
        new("Lien:Attestation:TrustedRoots", RootsFile.Value),
        new("Lien:Attestation:StatusListUrl", await StatusListUrl.Value),
    ];

    /// <summary>The chain (base64 DER, leaf first) attesting <paramref name="key"/> in a TEE with <paramref name="challenge"/>, on the phone with <paramref name="imeis"/>.</summary>
    public static IReadOnlyList<string> Chain(ECDsa key, byte[] challenge, string[] imeis, AttestationAuthority? by = null,
        Func<AttestationRequest, AttestationRequest>? adjust = null) =>
        Chain(key.ExportSubjectPublicKeyInfo(), challenge, imeis, by, adjust);

    public static IReadOnlyList<string> Chain(byte[] publicKey, byte[] challenge, IReadOnlyList<string> imeis, AttestationAuthority? by = null,
        Func<AttestationRequest, AttestationRequest>? adjust = null)
    {
        var request = AttestationRequest.ForPhone(publicKey, challenge, imeis);
        return [.. (by ?? Authority).Issue(adjust?.Invoke(request) ?? request).Select(Convert.ToBase64String)];
    }

    /// <summary>The reference agent's secure hardware in tests: the test authority attests its keys.</summary>
    public static IKeyAttestation ForAgent { get; } = new AgentAttestation();

    private sealed class AgentAttestation : IKeyAttestation
    {
        public IReadOnlyList<string>? Attest(byte[] publicKey, byte[] challenge, IReadOnlyList<string> imeis) => Chain(publicKey, challenge, imeis);
    }

    private static async Task<string> StartStatusListAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var body = "{\"entries\":{\"" + Revoked.IntermediateSerialHex + "\":{\"status\":\"REVOKED\",\"reason\":\"KEY_COMPROMISE\"}}}";
        app.MapGet("/attestation/status", () => Results.Text(body, "application/json"));
        await app.StartAsync();
        return app.Urls.First() + "/attestation/status";
    }
}
