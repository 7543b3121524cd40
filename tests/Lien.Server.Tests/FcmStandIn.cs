using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lien.Server.Tests;

/// <summary>
/// A local stand-in for Google's OAuth token endpoint and the FCM HTTP v1 send API. It checks what it receives the way
/// Google would — the service-account assertion's RS256 signature and claims, the bearer token, the message shape —
/// and records each message. Registration tokens named "unregistered…" or "busy…" get FCM's error answers.
/// </summary>
public sealed class FcmStandIn : IAsyncDisposable
{
    public const string Project = "lien-test-project";
    public const string ClientEmail = "lien-push@lien-test-project.iam.gserviceaccount.com";
    private readonly RSA _key = RSA.Create(2048);
    private WebApplication? _app;
    private int _tokens;

    public string PrivateKeyPem => _key.ExportPkcs8PrivateKeyPem();
    public Uri Url { get; private set; } = null!;
    public int TokenRequests => _tokens;
    public ConcurrentQueue<(string Token, Dictionary<string, string> Data, string Priority)> Messages { get; } = new();
    public ConcurrentQueue<string> Rejections { get; } = new();

    public async Task StartAsync()
    {
        _app = await LoopbackApp.StartAsync(a =>
        {
            a.MapPost("/token", Token);
            a.MapPost("/v1/projects/{project}/messages:send", Send);
        });
        Url = new Uri(_app.Urls.First() + "/");
    }

    private async Task<IResult> Token(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer") return Reject("bad grant_type");
        var parts = form["assertion"].ToString().Split('.');
        if (parts.Length != 3) return Reject("assertion is not a JWT");
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement;
        if (header.GetProperty("alg").GetString() != "RS256") return Reject("assertion alg");
        if (!_key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            return Reject("assertion signature");
        var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement;
        if (claims.GetProperty("iss").GetString() != ClientEmail) return Reject("iss");
        if (claims.GetProperty("scope").GetString() != "https://www.googleapis.com/auth/firebase.messaging") return Reject("scope");
        if (claims.GetProperty("aud").GetString() != new Uri(Url, "token").ToString()) return Reject("aud");
        if (claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64() != 3600) return Reject("lifetime");
        var n = Interlocked.Increment(ref _tokens);
        return Results.Json(new Dictionary<string, object> { ["access_token"] = $"ya29.stand-in-{n}", ["expires_in"] = 3600, ["token_type"] = "Bearer" });
    }

    private async Task<IResult> Send(string project, HttpRequest request)
    {
        if (project != Project) return Results.NotFound();
        if (!request.Headers.Authorization.ToString().StartsWith("Bearer ya29.stand-in-", StringComparison.Ordinal))
            return Results.Json(new { error = new { code = 401, status = "UNAUTHENTICATED" } }, statusCode: 401);
        var body = await JsonDocument.ParseAsync(request.Body);
        var message = body.RootElement.GetProperty("message");
        var token = message.GetProperty("token").GetString()!;
        var data = message.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var priority = message.GetProperty("android").GetProperty("priority").GetString()!;
        if (token.StartsWith("unregistered", StringComparison.Ordinal))
            return Results.Json(new { error = new { code = 404, message = "Requested entity was not found.", status = "NOT_FOUND", details = new[] { new { errorCode = "UNREGISTERED" } } } }, statusCode: 404);
        if (token.StartsWith("busy", StringComparison.Ordinal))
        {
            request.HttpContext.Response.Headers.RetryAfter = "7";
            return Results.Json(new { error = new { code = 503, status = "UNAVAILABLE" } }, statusCode: 503);
        }
        Messages.Enqueue((token, data, priority));
        return Results.Json(new { name = $"projects/{Project}/messages/{Guid.NewGuid():N}" });
    }

    private IResult Reject(string why)
    {
        Rejections.Enqueue(why);
        return Results.Json(new { error = "invalid_grant", error_description = why }, statusCode: 400);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _key.Dispose();
    }
}
