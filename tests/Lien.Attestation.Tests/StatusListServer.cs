using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lien.Attestation.Tests;

/// <summary>A real HTTP server on loopback serving an attestation status list the test can change or break.</summary>
internal sealed class StatusListServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task serving;
    private volatile string body = """{"entries":{}}""";
    private volatile int status = 200;
    private int requests;

    public StatusListServer()
    {
        // HttpListener needs a port up front: take one the system hands out, then listen on it.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Address = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/attestation/status/");
        }
        listener.Prefixes.Add(Address.ToString());
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    /// <summary>While set, each request waits for it before it is answered (a slow upstream).</summary>
    public TaskCompletionSource? Hold { get; set; }
    public int Requests => requests;

    public void Serve(string json, int statusCode = 200)
    {
        body = json;
        status = statusCode;
    }

    public static string Revoking(params string[] serials) =>
        "{\"entries\":{" + string.Join(",", serials.Select(s => $"\"{s}\":{{\"status\":\"REVOKED\",\"reason\":\"KEY_COMPROMISE\"}}")) + "}}";

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref requests);
            if (Hold is { } hold) await hold.Task;
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        if (!listener.IsListening) return;
        listener.Stop();
        listener.Close();
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
