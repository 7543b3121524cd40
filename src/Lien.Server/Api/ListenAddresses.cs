using System.Net;
using System.Net.Sockets;

namespace Lien.Server.Api;

/// <summary>
/// Before the server starts: is any address it is about to listen on held by another program? Kestrel would fail the
/// same way, but only after logging the failure with a stack trace; a person starting the demo needs one line.
/// </summary>
internal static class ListenAddresses
{
    /// <summary>The first configured address another program holds, or null when all are free (or cannot be checked).</summary>
    public static string? FirstInUse(IConfiguration config)
    {
        var urls = config["urls"] ?? config["ASPNETCORE_URLS"] ?? "http://localhost:5000";
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) || uri.Port <= 0) continue;
            var host = uri.Host.Trim('[', ']');
            var ip = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
                : IPAddress.TryParse(host, out var parsed) ? parsed : null;
            if (ip is not null && Held(new IPEndPoint(ip, uri.Port))) return url;
        }
        return null;
    }

    private static bool Held(IPEndPoint endpoint)
    {
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endpoint);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            return false; // not ours to judge (no IPv6, say): Kestrel will say
        }
    }
}
