using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lien.Server.Notices;

/// <summary>
/// What every Africa's Talking callback (delivery reports, USSD, incoming SMS) checks first. Africa's Talking signs none of
/// them, so the URL's secret (<c>?token=</c> <see cref="AfricasTalkingOptions.CallbackToken"/>) is the proof, and an
/// optional allow-list of source addresses (<see cref="AfricasTalkingOptions.AllowedSources"/>) narrows who may try; then the
/// form is read, or the request refused with a problem — never a 500.
/// </summary>
internal static class AfricasTalkingCallback
{
    public static async Task<(IFormCollection? Form, ProblemHttpResult? Refusal)> ReadAsync(HttpContext http, string? token, AfricasTalkingOptions options,
        CancellationToken ct)
    {
        var expected = options.CallbackToken;
        if (string.IsNullOrEmpty(expected) || token is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected)))
            return (null, TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "The callback URL's token is missing or wrong."));
        if (!Allowed(http.Connection.RemoteIpAddress, options.AllowedSources))
            return (null, TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "This address may not call Africa's Talking's callbacks here."));
        if (!http.Request.HasFormContentType)
            return (null, TypedResults.Problem(statusCode: 415, title: "Unsupported media type",
                detail: "Africa's Talking's callbacks are form-encoded (application/x-www-form-urlencoded)."));
        try
        {
            return (await http.Request.ReadFormAsync(ct), null);
        }
        catch (InvalidDataException e)
        {
            return (null, TypedResults.Problem(statusCode: 400, title: "Bad callback", detail: $"The callback could not be read as a form: {e.Message}"));
        }
    }

    /// <summary>Whether <paramref name="address"/> is in the allow-list (addresses or CIDR networks); an empty list allows every address.</summary>
    public static bool Allowed(IPAddress? address, IReadOnlyList<string> sources)
    {
        if (sources.Count == 0) return true;
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var source in sources)
            if (IPNetwork.TryParse(source.Contains('/') ? source : source + (source.Contains(':') ? "/128" : "/32"), out var network) && network.Contains(address))
                return true;
        return false;
    }

    /// <summary>What is wrong with <c>Lien:Sms:AfricasTalking:AllowedSources</c>, or null.</summary>
    public static string? SettingsProblem(IConfiguration config)
    {
        var bad = config.GetSection("Lien:Sms:AfricasTalking:AllowedSources").GetChildren().Select(c => c.Value ?? "")
            .FirstOrDefault(s => !IPNetwork.TryParse(s.Contains('/') ? s : s + (s.Contains(':') ? "/128" : "/32"), out _));
        return bad is null ? null : $"Lien:Sms:AfricasTalking:AllowedSources must list addresses or networks such as 196.201.214.0/24 (\"{bad}\" is not one).";
    }
}
