using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lien.Cli.Client;

/// <summary>A typed client for the Lien lender API (<c>/v1</c>). Errors surface as <see cref="LienApiException"/>.</summary>
public sealed class LienClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly HttpClient _http;

    /// <summary>Wraps <paramref name="http"/>, whose BaseAddress is the server, and sends <paramref name="apiKey"/> as the bearer token.</summary>
    public LienClient(HttpClient http, string? apiKey)
    {
        _http = http;
        if (apiKey is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public Task<Lender> GetLenderAsync(CancellationToken ct = default) => Send<Lender>(HttpMethod.Get, "v1/lender", null, ct);

    public Task<Device> RegisterDeviceAsync(RegisterDevice device, CancellationToken ct = default) => Send<Device>(HttpMethod.Post, "v1/devices", device, ct);

    public Task<Device> GetDeviceAsync(Guid id, CancellationToken ct = default) => Send<Device>(HttpMethod.Get, $"v1/devices/{id}", null, ct);

    public Task<Page<Device>> ListDevicesAsync(string? search = null, string? status = null, int? limit = null, string? after = null, CancellationToken ct = default) =>
        Send<Page<Device>>(HttpMethod.Get, "v1/devices" + Query(("search", search), ("status", status), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("after", after)), null, ct);

    public async Task<ImportResult> ImportDevicesAsync(Stream csv, CancellationToken ct = default)
    {
        using var content = new StreamContent(csv);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var response = await _http.PostAsync("v1/devices/import", content, ct);
        return await Read<ImportResult>(response, ct);
    }

    public Task<Lease> GetLeaseAsync(Guid deviceId, CancellationToken ct = default) => Send<Lease>(HttpMethod.Get, $"v1/devices/{deviceId}/lease", null, ct);

    public Task<Plan> CreatePlanAsync(CreatePlan plan, CancellationToken ct = default) => Send<Plan>(HttpMethod.Post, "v1/plans", plan, ct);

    public Task<Plan> GetPlanAsync(Guid id, CancellationToken ct = default) => Send<Plan>(HttpMethod.Get, $"v1/plans/{id}", null, ct);

    public Task<Plan> CancelPlanAsync(Guid id, string reason, CancellationToken ct = default) => Send<Plan>(HttpMethod.Post, $"v1/plans/{id}/cancel", new { reason }, ct);

    public Task<Payment> PostPaymentAsync(PostPayment payment, CancellationToken ct = default) => Send<Payment>(HttpMethod.Post, "v1/payments", payment, ct);

    public Task<Payment> ReversePaymentAsync(Guid id, string reason, CancellationToken ct = default) =>
        Send<Payment>(HttpMethod.Post, $"v1/payments/{id}/reversal", new { reason }, ct);

    public Task<ChainCheck> VerifyAuditAsync(CancellationToken ct = default) => Send<ChainCheck>(HttpMethod.Get, "v1/audit/verify", null, ct);

    private async Task<T> Send<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        using var response = await _http.SendAsync(request, ct);
        return await Read<T>(response, ct);
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
        throw await LienApiException.FromAsync(response, ct);
    }

    private static string Query(params (string Name, string? Value)[] parts)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in parts.Where(p => !string.IsNullOrEmpty(p.Value)))
            sb.Append(sb.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value!));
        return sb.ToString();
    }
}

/// <summary>An RFC 9457 problem answered by the server.</summary>
public sealed class LienApiException(int status, string title, string? detail, IReadOnlyDictionary<string, string[]> errors)
    : Exception($"{status} {title}: {detail}")
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    internal static async Task<LienApiException> FromAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        try
        {
            var p = await response.Content.ReadFromJsonAsync<Problem>(cancellationToken: ct);
            return new LienApiException(status, p?.Title ?? response.ReasonPhrase ?? "Error", p?.Detail, p?.Errors ?? new Dictionary<string, string[]>());
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return new LienApiException(status, response.ReasonPhrase ?? "Error", null, new Dictionary<string, string[]>());
        }
    }

    private sealed record Problem(string? Title, string? Detail, Dictionary<string, string[]>? Errors);
}
