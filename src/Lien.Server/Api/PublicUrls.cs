using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Lien.Server.Api;

/// <summary>
/// The address borrowers reach this server at, for links that leave it (the pay link in a lease's lock screen):
/// <c>Lien:PublicUrl</c> (e.g. <c>https://pay.example.com</c>); without it, the address the server listens on, or before
/// it listens the first of <c>urls</c> (a wildcard host read as localhost) — right for a demo on one machine, wrong for
/// phones elsewhere, so a deployment sets it.
/// </summary>
internal sealed class PublicUrls(IConfiguration config, IServiceProvider services)
{
    private string? _configured = Normalize(config["Lien:PublicUrl"]);

    /// <summary>The base address without a trailing slash, or null when none can be told.</summary>
    public string? Base
    {
        get
        {
            if (_configured is not null) return _configured;
            var listening = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            // Once the server listens its address does not change: remembered, so a lease's pay link stays the same.
            if (Normalize(listening) is { } bound && !bound.EndsWith(":0", StringComparison.Ordinal)) return _configured = bound;
            var urls = config["urls"] ?? config["ASPNETCORE_URLS"] ?? "http://localhost:5000";
            return Normalize(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault());
        }
    }

    /// <summary>A plan's pay page, absolute; null when the plan has no pay link yet or no base address is known.</summary>
    public string? PayPage(string? token) => token is null || Base is not { } b ? null : $"{b}/p/{token}";

    /// <summary>What is wrong with <c>Lien:PublicUrl</c>, or null.</summary>
    public static string? SettingsProblem(IConfiguration config) =>
        config["Lien:PublicUrl"] is { Length: > 0 } url && Normalize(url) is null
            ? $"Lien:PublicUrl must be an absolute http(s) address such as https://pay.example.com (it is \"{url}\")."
            : null;

    private static string? Normalize(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return null;
        url = url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query)
            ? uri.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : null;
    }
}
