using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Lien.Server.Push;

/// <summary>
/// The FCM HTTP v1 send API (<c>POST /v1/projects/{project}/messages:send</c>) with OAuth 2.0 service-account
/// authorization: an RS256-signed JWT assertion exchanged at the token URI for a bearer token, cached until near expiry.
/// </summary>
internal sealed class FcmClient(HttpClient http, IOptions<FcmOptions> options, TimeProvider time, ILogger<FcmClient> log) : IPushSender
{
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private string? _accessToken;
    private DateTimeOffset _accessTokenExpires;

    public async Task<PushResult> SendCheckInAsync(string registrationToken, long seq, CancellationToken ct)
    {
        var o = options.Value;
        if (!o.Configured) return new PushResult(PushOutcome.NotConfigured);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var token = await AccessTokenAsync(forceRefresh: attempt > 0, ct);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(o.Endpoint, $"v1/projects/{Uri.EscapeDataString(o.ProjectId!)}/messages:send"))
            {
                Content = JsonContent.Create(new SendRequest(new Message(registrationToken,
                    new Dictionary<string, string> { ["lien"] = "checkin", ["seq"] = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    new AndroidConfig("HIGH", "300s")))),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode) return new PushResult(PushOutcome.Sent);
            var body = await response.Content.ReadAsStringAsync(ct);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized when attempt == 0:
                    continue; // the cached token was revoked or expired early: fetch a new one once
                case HttpStatusCode.NotFound:
                case HttpStatusCode.BadRequest when body.Contains("registration token", StringComparison.OrdinalIgnoreCase) || body.Contains("UNREGISTERED", StringComparison.Ordinal):
                    return new PushResult(PushOutcome.TokenInvalid, Error: body);
                case HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError:
                    return new PushResult(PushOutcome.RetryLater, response.Headers.RetryAfter?.Delta, body);
                default:
                    log.LogWarning("FCM refused a message: {Status} {Body}", (int)response.StatusCode, body);
                    return new PushResult(PushOutcome.RetryLater, null, body);
            }
        }
        return new PushResult(PushOutcome.RetryLater, null, "unauthorized twice");
    }

    private async Task<string> AccessTokenAsync(bool forceRefresh, CancellationToken ct)
    {
        await _tokenLock.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            if (!forceRefresh && _accessToken is not null && now < _accessTokenExpires - TimeSpan.FromMinutes(1)) return _accessToken;
            var o = options.Value;
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                ["assertion"] = Assertion(o, now),
            });
            using var response = await http.PostAsync(o.TokenUri, form, ct);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"The OAuth token endpoint refused the service account: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(ct) ?? throw new HttpRequestException("Empty token response.");
            _accessToken = token.AccessToken;
            _accessTokenExpires = now + TimeSpan.FromSeconds(token.ExpiresIn);
            return _accessToken;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    /// <summary>The JWT a Google service account presents: RS256 over {iss, scope, aud, iat, exp}.</summary>
    public static string Assertion(FcmOptions o, DateTimeOffset now)
    {
        var header = Base64Url.EncodeToString("""{"alg":"RS256","typ":"JWT"}"""u8);
        var claims = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = o.ClientEmail!,
            ["scope"] = Scope,
            ["aud"] = o.TokenUri.ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        }));
        using var rsa = RSA.Create();
        rsa.ImportFromPem(o.PrivateKeyPem);
        var signature = rsa.SignData(Encoding.ASCII.GetBytes($"{header}.{claims}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{claims}.{Base64Url.EncodeToString(signature)}";
    }

    private sealed record SendRequest([property: JsonPropertyName("message")] Message Message);

    private sealed record Message(
        [property: JsonPropertyName("token")] string Token,
        [property: JsonPropertyName("data")] Dictionary<string, string> Data,
        [property: JsonPropertyName("android")] AndroidConfig Android);

    private sealed record AndroidConfig([property: JsonPropertyName("priority")] string Priority, [property: JsonPropertyName("ttl")] string Ttl);

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}
