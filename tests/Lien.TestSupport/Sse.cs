using System.Net.Http.Headers;
using System.Text.Json;

namespace Lien.TestSupport;

/// <summary>A device's end of the Server-Sent Events stream, as bare as an agent would read it.</summary>
public sealed class Sse : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private Sse(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

    public static async Task<Sse> OpenAsync(HttpClient client, string token, long appliedSeq)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/device/stream?appliedSeq={appliedSeq}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Device", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var sse = new Sse(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        Assert.Equal(": connected", await sse._reader.ReadLineAsync()); // the stream is registered
        return sse;
    }

    /// <summary>The next lease event (seq, jws); comments and pings are skipped. Fails after <paramref name="seconds"/>.</summary>
    public async Task<(long Seq, string Lease)> NextLeaseAsync(int seconds = 20)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        string? evt = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("The stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal)) evt = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && evt == "lease")
            {
                var data = JsonDocument.Parse(line[6..]).RootElement;
                return (data.GetProperty("seq").GetInt64(), data.GetProperty("lease").GetString()!);
            }
        }
    }

    /// <summary>The next line that is not blank (a lease's lines, or a comment such as <c>: ping</c>).</summary>
    public async Task<string> NextLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var line = await _reader.ReadLineAsync(ct) ?? throw new InvalidOperationException("The stream ended.");
            if (line.Length > 0) return line;
        }
    }

    /// <summary>Reads until the server closes the stream (true), or <paramref name="seconds"/> pass with it open (false): a hang guard.</summary>
    public async Task<bool> EndsAsync(int seconds = 15)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (await _reader.ReadLineAsync(cts.Token) is not null) { }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
