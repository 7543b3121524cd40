using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lien.Server.Tests.Notices;

/// <summary>
/// A local stand-in for Africa's Talking's SMS API (<c>POST /version1/messaging</c>). It checks what it receives as the
/// real one would — form-encoded, the <c>apiKey</c> header, <c>Accept: application/json</c>, a known username, a number
/// and a message — refusing anything else, and answers in its documented JSON. A number's last three digits choose the
/// answer: 403 InvalidPhoneNumber, 405 InsufficientBalance, 406 UserInBlacklist per recipient, or 500 an HTTP 500; any
/// other is 101 Success.
/// </summary>
public sealed class AfricasTalkingStandIn : IAsyncDisposable
{
    public const string Username = "lien-test";
    public const string ApiKey = "atsk_stand_in_key_0123456789";
    private WebApplication? _app;
    private int _sent;

    public sealed record Sms(string To, string Message, string? From);

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<Sms> Messages { get; } = new();
    public ConcurrentQueue<string> Rejections { get; } = new();

    public async Task StartAsync()
    {
        _app = await LoopbackApp.StartAsync(a =>
        {
            a.MapPost("/version1/messaging", Send);
        });
        Url = new Uri(_app.Urls.First() + "/");
    }

    private async Task<IResult> Send(HttpRequest request)
    {
        if (request.Headers["apiKey"] != ApiKey) return Reject(401, "The supplied authentication is invalid");
        if (!request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal)) return Reject(406, "Accept must be application/json");
        if (!request.HasFormContentType) return Reject(415, "form-encoded only");
        var form = await request.ReadFormAsync();
        if (form["username"] != Username) return Reject(401, "The supplied authentication is invalid");
        var to = form["to"].ToString();
        var message = form["message"].ToString();
        if (to.Length == 0 || message.Length == 0) return Reject(400, "to and message are required");
        if (!to.StartsWith('+')) return Reject(400, "Invalid phone number");
        if (to.EndsWith("500", StringComparison.Ordinal)) return Results.Text("Internal Server Error", statusCode: 500);
        Messages.Enqueue(new Sms(to, message, form.TryGetValue("from", out var from) ? from.ToString() : null));
        var (code, status) = to[^3..] switch
        {
            "403" => (403, "InvalidPhoneNumber"),
            "405" => (405, "InsufficientBalance"),
            "406" => (406, "UserInBlacklist"),
            _ => (101, "Success"),
        };
        var id = code == 101 ? $"ATXid_{Interlocked.Increment(ref _sent):D6}" : "None";
        var cost = code == 101 ? "KES 0.8000" : "0";
        return Results.Json(new
        {
            SMSMessageData = new
            {
                Message = code == 101 ? "Sent to 1/1 Total Cost: KES 0.8000" : "Sent to 0/1 Total Cost: 0",
                Recipients = new[] { new { statusCode = code, number = to, status, cost, messageId = id } },
            },
        }, AsWritten, statusCode: 201);
    }

    // Africa's Talking's own names (SMSMessageData, Recipients): no camel-casing.
    private static readonly System.Text.Json.JsonSerializerOptions AsWritten = new();

    private IResult Reject(int status, string why)
    {
        Rejections.Enqueue(why);
        return Results.Text(why, statusCode: status);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
