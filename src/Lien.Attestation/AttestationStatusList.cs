using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Lien.Attestation;

/// <summary>One entry of the attestation status list: a certificate Google no longer vouches for.</summary>
public sealed record AttestationStatusEntry(string Status, string? Reason);

/// <summary>
/// The attestation certificate status list (<c>{"entries":{"&lt;serial hex&gt;":{"status":"REVOKED","reason":…}}}</c>),
/// keyed by certificate serial number in lower-case hexadecimal without leading zeros. Any listed serial
/// (REVOKED or SUSPENDED) fails a chain that holds it.
/// </summary>
public sealed class AttestationStatusList
{
    private readonly Dictionary<string, AttestationStatusEntry> entries;

    private AttestationStatusList(Dictionary<string, AttestationStatusEntry> entries) => this.entries = entries;

    /// <summary>A list with no entries: nothing revoked (for tests and for a deployment that checks revocation elsewhere).</summary>
    public static AttestationStatusList Empty { get; } = new(new Dictionary<string, AttestationStatusEntry>(StringComparer.Ordinal));

    public int Count => entries.Count;

    /// <summary>The entry for a serial number (hexadecimal, any case, leading zeros allowed), or null when it is not listed.</summary>
    public AttestationStatusEntry? Find(string serialHex) =>
        entries.TryGetValue(StatusListSerial.Normalize(serialHex), out var entry) ? entry : null;

    public static bool TryParse(ReadOnlySpan<byte> json, [NotNullWhen(true)] out AttestationStatusList? list, [NotNullWhen(false)] out string? error)
    {
        list = null;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("entries", out var entriesElement)
                || entriesElement.ValueKind != JsonValueKind.Object)
            {
                error = "the status list has no \"entries\" object";
                return false;
            }
            var entries = new Dictionary<string, AttestationStatusEntry>(StringComparer.Ordinal);
            foreach (var property in entriesElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Object
                    || !property.Value.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
                {
                    error = $"the entry {property.Name} has no \"status\" string";
                    return false;
                }
                var reason = property.Value.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                entries[StatusListSerial.Normalize(property.Name)] = new AttestationStatusEntry(status.GetString()!, reason);
            }
            list = new AttestationStatusList(entries);
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = "the status list is not JSON: " + e.Message;
            return false;
        }
    }
}

/// <summary>What the status client holds: the last list fetched (null when none ever was), when, and the last failure.</summary>
public sealed record AttestationStatusState(AttestationStatusList? List, DateTimeOffset? FetchedAt, string? LastError)
{
    /// <summary>A sentence for logs and refusals.</summary>
    public string Describe() => List is null
        ? $"no attestation status list has ever been fetched{(LastError is null ? "" : $" (last attempt: {LastError})")}"
        : $"status list of {List.Count} entries fetched at {FetchedAt:O}{(LastError is null ? "" : $"; the last refresh failed: {LastError}")}";
}

/// <summary>
/// Fetches the attestation status list from a configured address and caches it: refreshed when older than the refresh
/// interval, the last good copy kept when a refresh fails, and a failed first fetch retried after at most a minute.
/// </summary>
public sealed class AttestationStatusClient(HttpClient http, Uri address, TimeSpan refreshInterval, TimeProvider time)
{
    /// <summary>Google's production status list.</summary>
    public static Uri GoogleAddress { get; } = new("https://android.googleapis.com/attestation/status");

    private const int MaxBytes = 32 * 1024 * 1024;
    private static readonly TimeSpan RetryWhenEmpty = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private AttestationStatusState state = new(null, null, null);
    private DateTimeOffset? lastAttempt;

    /// <summary>What is held now, without fetching.</summary>
    public AttestationStatusState Current => state;

    /// <summary>The list to verify with, refreshed first when due. Never throws for a network or format failure: it is in <see cref="AttestationStatusState.LastError"/>.</summary>
    public async Task<AttestationStatusState> GetAsync(CancellationToken cancellationToken = default)
    {
        // With no list yet, a caller waits for a fetch in flight rather than answering "never fetched" beside it.
        if (!Due() && state.List is not null) return state;
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            if (Due()) await RefreshAsync(cancellationToken);
            return state;
        }
        finally
        {
            refreshing.Release();
        }
    }

    private bool Due()
    {
        if (lastAttempt is not { } last) return true;
        var wait = state.List is null && RetryWhenEmpty < refreshInterval ? RetryWhenEmpty : refreshInterval;
        return time.GetUtcNow() - last >= wait;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        lastAttempt = time.GetUtcNow();
        string? failure;
        try
        {
            using var response = await http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                failure = $"{address} answered {(int)response.StatusCode}";
            }
            else if (response.Content.Headers.ContentLength > MaxBytes)
            {
                failure = $"{address} sent more than {MaxBytes} bytes";
            }
            else
            {
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (body.Length > MaxBytes) failure = $"{address} sent more than {MaxBytes} bytes";
                else if (AttestationStatusList.TryParse(body, out var list, out var error))
                {
                    state = new AttestationStatusState(list, time.GetUtcNow(), null);
                    return;
                }
                else failure = $"{address}: {error}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            failure = $"{address}: {e.Message}";
        }
        state = state with { LastError = failure };
    }
}
