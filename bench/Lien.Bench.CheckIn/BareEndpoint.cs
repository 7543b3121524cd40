using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;

namespace Lien.Bench.CheckIn;

/// <summary>
/// The baseline: Kestrel and a minimal API that reads the same small JSON body and answers a check-in-shaped JSON of the
/// same size, with no token, no database and nothing else. What the server does beyond this is the check-in's cost.
/// </summary>
internal static class BareEndpoint
{
    private static readonly KeySetStatement NoKeys = new("", []);

    public static async Task RunAsync(int port, int bodyBytes)
    {
        var builder = WebApplication.CreateBuilder([]);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
        var app = builder.Build();
        var time = TimeProvider.System;
        var lease = new string('x', Math.Max(0, bodyBytes - Shell(time).Length));
        app.MapPost("/v1/device/checkin", (CheckInRequest body) =>
        {
            var now = time.GetUtcNow();
            return TypedResults.Ok(new CheckInResponse(body.AppliedSeq, lease, NoKeys, now + TimeSpan.FromHours(6), now));
        });
        await app.RunAsync();
    }

    // The answer's size without its lease, so the padded lease makes the whole body as large as the real one.
    private static string Shell(TimeProvider time)
    {
        var now = time.GetUtcNow();
        return JsonSerializer.Serialize(new CheckInResponse(1, "", NoKeys, now + TimeSpan.FromHours(6), now), Json.Options);
    }
}
