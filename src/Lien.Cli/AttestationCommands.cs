using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lien.Attestation;

namespace Lien.Cli;

/// <summary><c>lien attestation …</c>: Android Key Attestation chains, checked offline as the server checks them.</summary>
internal static class AttestationCommands
{
    // Exit codes: 0 the chain verifies (or every conformance case passes), 1 it does not, 2 the input could not be used at all.
    private const int Refused = 1;
    private const int BadInput = 2;
    // Base64 with '+' and '/' as written, not \u002B: the output is read by people and compared with records.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var attestation = new Command("attestation", "Android Key Attestation certificate chains");
        attestation.Subcommands.Add(Verify());
        attestation.Subcommands.Add(Conformance());
        attestation.Subcommands.Add(Authority());
        return attestation;
    }

    private static Command Authority()
    {
        var authorityFile = new Argument<FileInfo>("authority") { Description = "Where to write the authority (its attestation key and certificates, PEM): for lien simulate --attest-with" };
        var rootFile = new Argument<FileInfo>("root") { Description = "Where to write its root public key (PEM): for the server's Lien:Attestation:TrustedRoots" };
        var command = new Command("authority", "Make a test attestation authority: simulated phones attest their keys with it, a server trusts it only where configured")
        {
            authorityFile, rootFile,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var (authorityPath, rootPath) = (parseResult.GetValue(authorityFile)!.FullName, parseResult.GetValue(rootFile)!.FullName);
            if (File.Exists(authorityPath))
            {
                error.WriteLine($"lien: {authorityPath} exists; an authority is not overwritten (phones it attested would no longer verify).");
                return BadInput;
            }
            using var authority = AttestationAuthority.Create(TimeProvider.System);
            try
            {
                File.WriteAllText(authorityPath, authority.ExportPem());
                File.WriteAllText(rootPath, new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", authority.RootPublicKey)) + "\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"lien: cannot write the authority: {e.Message}");
                return BadInput;
            }
            output.WriteLine($"authority written to {authorityPath} (keep it private: it can attest any key)");
            output.WriteLine($"root key written to {rootPath}: start the server with Lien__Attestation__TrustedRoots={rootPath} to trust it");
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var chainFile = new Argument<FileInfo>("chain") { Description = "The chain as PEM certificates, leaf first" };
        var at = new Option<string>("--at") { Description = "Check validity at this instant (ISO 8601, e.g. 2024-09-26T22:31:25Z); now by default" };
        var challenge = new Option<string>("--challenge") { Description = "The challenge the key must attest (base64); not checked when absent" };
        var statusList = new Option<string>("--status-list") { Description = "An attestation status list (a file, or an http(s) address to fetch it from); revocation is not checked without one" };
        var roots = new Option<FileInfo[]>("--root") { Description = "A further trusted root certificate (PEM), e.g. a test attestation authority's", AllowMultipleArgumentsPerToken = true };
        var imeis = new Option<string[]>("--imei") { Description = "The phone's registered IMEI(s): every IMEI the hardware attests must be one of them", AllowMultipleArgumentsPerToken = true };
        var minLevel = new Option<SecurityLevel>("--min-level") { Description = "The lowest security level accepted", DefaultValueFactory = _ => SecurityLevel.TrustedEnvironment };
        var verifiedBoot = new Option<bool>("--require-verified-boot") { Description = "Refuse a boot state other than VERIFIED (the server's default)" };
        var command = new Command("verify", "Verify a chain and print the verdict and the attestation record as JSON; exits 0 only when it verifies")
        {
            chainFile, at, challenge, statusList, roots, imeis, minLevel, verifiedBoot,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(chainFile)!.FullName;
            if (!TryReadChain(path, error, out var chain)) return BadInput;

            var instant = TimeProvider.System.GetUtcNow();
            if (parseResult.GetValue(at) is { } atText
                && !DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant))
            {
                error.WriteLine($"lien: --at {atText} is not an instant (ISO 8601, e.g. 2024-09-26T22:31:25Z).");
                return BadInput;
            }
            byte[]? expectedChallenge = null;
            if (parseResult.GetValue(challenge) is { } challengeText)
            {
                try
                {
                    expectedChallenge = Convert.FromBase64String(challengeText);
                }
                catch (FormatException)
                {
                    error.WriteLine("lien: --challenge must be base64.");
                    return BadInput;
                }
            }

            var anchors = AttestationTrustAnchors.Google;
            foreach (var root in parseResult.GetValue(roots) ?? [])
            {
                if (!TryReadText(root.FullName, error, out var text)) return BadInput;
                if (!AttestationPem.TryReadRootKeys(text, out var keys, out var rootError))
                {
                    error.WriteLine($"lien: {root.FullName}: {rootError}.");
                    return BadInput;
                }
                anchors = anchors.WithHardwareRoots(keys);
            }

            AttestationStatusList? list = null;
            if (parseResult.GetValue(statusList) is { } source)
            {
                list = await ReadStatusList(source, error, cancellationToken);
                if (list is null) return BadInput;
            }

            var policy = new AttestationPolicy
            {
                ExpectedChallenge = expectedChallenge,
                ExpectedImeis = parseResult.GetValue(imeis) is { Length: > 0 } expected ? expected : null,
                MinimumSecurityLevel = parseResult.GetValue(minLevel),
                AllowedBootStates = parseResult.GetValue(verifiedBoot)
                    ? new HashSet<VerifiedBootState> { VerifiedBootState.Verified }
                    : new HashSet<VerifiedBootState>(Enum.GetValues<VerifiedBootState>()),
                RequireStatusList = false,
            };
            var verdict = new AttestationVerifier(anchors).Verify(chain, policy, instant, list);
            var json = VerdictJson(verdict);
            json["checkedAt"] = instant.ToString("O", CultureInfo.InvariantCulture);
            json["revocationChecked"] = list is not null;
            output.WriteLine(json.ToJsonString(Indented));
            return verdict.Verified ? 0 : Refused;
        });
        return command;
    }

    private static Command Conformance()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A conformance folder: .pem chains with their .json records; chains under invalid/ must be refused" };
        var command = new Command("conformance", "Verify every chain of a conformance folder at its key's creation time against its record; exits 1 if any fails")
        {
            directory,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(directory)!.FullName;
            if (!Directory.Exists(path))
            {
                error.WriteLine($"lien: {path} is not a folder.");
                return BadInput;
            }
            IReadOnlyList<AttestationConformanceCase> cases;
            try
            {
                cases = AttestationConformance.Run(path, new AttestationVerifier(AttestationTrustAnchors.Google), TimeProvider.System.GetUtcNow());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                error.WriteLine($"lien: cannot run {path}: {e.Message}");
                return BadInput;
            }
            var run = cases.Where(c => !AttestationConformance.IsSkipped(c)).ToList();
            foreach (var skipped in cases.Where(AttestationConformance.IsSkipped)) output.WriteLine($"{skipped.Path}: {skipped.Detail}");
            foreach (var failure in run.Where(c => !c.Passed)) output.WriteLine($"FAIL {failure.Path}: {failure.Detail}");
            var failed = run.Count(c => !c.Passed);
            output.WriteLine($"{run.Count - failed} passed, {failed} failed");
            return failed == 0 ? 0 : Refused;
        });
        return command;
    }

    private static bool TryReadText(string path, TextWriter error, out string text)
    {
        try
        {
            text = File.ReadAllText(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"lien: cannot read {path}: {e.Message}");
            text = "";
            return false;
        }
    }

    private static bool TryReadChain(string path, TextWriter error, out IReadOnlyList<byte[]> chain)
    {
        chain = [];
        if (!TryReadText(path, error, out var text)) return false;
        if (!AttestationPem.TryRead(text, out var read, out var pemError))
        {
            error.WriteLine($"lien: {path} is not a PEM certificate chain: {pemError}.");
            return false;
        }
        chain = read;
        return true;
    }

    private static async Task<AttestationStatusList?> ReadStatusList(string source, TextWriter error, CancellationToken cancellationToken)
    {
        if (Uri.TryCreate(source, UriKind.Absolute, out var address) && address.Scheme is "http" or "https")
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var state = await new AttestationStatusClient(http, address, TimeSpan.FromHours(1), TimeProvider.System).GetAsync(cancellationToken);
            if (state.List is null) error.WriteLine($"lien: {state.Describe()}.");
            return state.List;
        }
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(source, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"lien: cannot read {source}: {e.Message}");
            return null;
        }
        if (AttestationStatusList.TryParse(bytes, out var list, out var parseError)) return list;
        error.WriteLine($"lien: {source} is not an attestation status list: {parseError}.");
        return null;
    }

    // The verdict, the facts a lender's review asks for first, and the whole record.
    private static JsonObject VerdictJson(AttestationVerdict verdict)
    {
        var record = verdict.Record;
        var hardware = record?.HardwareEnforced;
        return new JsonObject
        {
            ["verified"] = verdict.Verified,
            ["failure"] = verdict.Verified ? null : verdict.Failure.ToString(),
            ["message"] = verdict.Message,
            ["rootTrust"] = verdict.RootTrust?.ToString(),
            ["provisioning"] = verdict.Provisioning.ToString(),
            ["effectiveSecurityLevel"] = verdict.EffectiveSecurityLevel is { } level ? KeyDescriptionJson.Name(level) : null,
            ["publicKey"] = verdict.PublicKey is { } key ? Convert.ToBase64String(key) : null,
            ["attestationSecurityLevel"] = record is null ? null : KeyDescriptionJson.Name(record.AttestationSecurityLevel),
            ["attestationChallenge"] = record is null ? null : Convert.ToBase64String(record.AttestationChallenge),
            ["verifiedBootState"] = hardware?.RootOfTrust is { } root ? KeyDescriptionJson.Name(root.VerifiedBootState) : null,
            ["deviceLocked"] = hardware?.RootOfTrust?.DeviceLocked,
            ["attestationIdImei"] = hardware?.AttestationIdImei,
            ["attestationIdSecondImei"] = hardware?.AttestationIdSecondImei,
            ["brand"] = hardware?.AttestationIdBrand,
            ["manufacturer"] = hardware?.AttestationIdManufacturer,
            ["model"] = hardware?.AttestationIdModel,
            ["device"] = hardware?.AttestationIdDevice,
            ["product"] = hardware?.AttestationIdProduct,
            ["record"] = record is null ? null : KeyDescriptionJson.ToJson(record),
        };
    }
}
