using System.Globalization;
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

    /// <summary>The calling key's lender: its settings and published trust keys (<c>GET /v1/lender</c>).</summary>
    public Task<Lender> GetLenderAsync(CancellationToken ct = default) => Send<Lender>(HttpMethod.Get, "v1/lender", null, ct);

    /// <summary>Rotates the lender's lease-signing key (admin): a new key signs new leases; the old one is retired, still trusted.</summary>
    public Task<Lender> RotateSigningKeyAsync(CancellationToken ct = default) => Send<Lender>(HttpMethod.Post, "v1/lender/keys/rotate", null, ct);

    /// <summary>Revokes a retired lease-signing key (admin); the active key cannot be revoked (rotate first).</summary>
    public Task<Lender> RevokeSigningKeyAsync(string kid, CancellationToken ct = default) =>
        Send<Lender>(HttpMethod.Post, $"v1/lender/keys/{Uri.EscapeDataString(kid)}/revoke", null, ct);

    /// <summary>Registers a device by IMEI (<c>POST /v1/devices</c>).</summary>
    public Task<Device> RegisterDeviceAsync(RegisterDevice device, CancellationToken ct = default) => Send<Device>(HttpMethod.Post, "v1/devices", device, ct);

    /// <summary>One registered device (<c>GET /v1/devices/{id}</c>).</summary>
    public Task<Device> GetDeviceAsync(Guid id, CancellationToken ct = default) => Send<Device>(HttpMethod.Get, $"v1/devices/{id}", null, ct);

    /// <summary>One page of the lender's devices, optionally searched or filtered by status (<c>GET /v1/devices</c>).</summary>
    public Task<Page<Device>> ListDevicesAsync(string? search = null, string? status = null, int? limit = null, string? after = null, CancellationToken ct = default) =>
        Send<Page<Device>>(HttpMethod.Get, "v1/devices" + Query(("search", search), ("status", status), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("after", after)), null, ct);

    /// <summary>Registers the devices of a CSV file; each row is stored or refused on its own (<c>POST /v1/devices/import</c>).</summary>
    public async Task<ImportResult> ImportDevicesAsync(Stream csv, CancellationToken ct = default)
    {
        using var content = new StreamContent(csv);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var response = await _http.PostAsync("v1/devices/import", content, ct);
        return await Read<ImportResult>(response, ct);
    }

    /// <summary>The device's current lease as issued (<c>GET /v1/devices/{id}/lease</c>).</summary>
    /// <summary>A one-time enrollment token for the device, with its provisioning QR code (shown once).</summary>
    public Task<EnrollmentToken> IssueEnrollmentTokenAsync(Guid deviceId, CancellationToken ct = default) =>
        Send<EnrollmentToken>(HttpMethod.Post, $"v1/devices/{deviceId}/enrollment-token", new { }, ct);

    public Task<Lease> GetLeaseAsync(Guid deviceId, CancellationToken ct = default) => Send<Lease>(HttpMethod.Get, $"v1/devices/{deviceId}/lease", null, ct);

    /// <summary>Creates a plan with explicit or generated installments (<c>POST /v1/plans</c>).</summary>
    public Task<Plan> CreatePlanAsync(CreatePlan plan, CancellationToken ct = default) => Send<Plan>(HttpMethod.Post, "v1/plans", plan, ct);

    /// <summary>One plan with its computed standing (<c>GET /v1/plans/{id}</c>).</summary>
    public Task<Plan> GetPlanAsync(Guid id, CancellationToken ct = default) => Send<Plan>(HttpMethod.Get, $"v1/plans/{id}", null, ct);

    /// <summary>Cancels a plan, giving the reason (<c>POST /v1/plans/{id}/cancel</c>).</summary>
    public Task<Plan> CancelPlanAsync(Guid id, string reason, CancellationToken ct = default) => Send<Plan>(HttpMethod.Post, $"v1/plans/{id}/cancel", new { reason }, ct);

    /// <summary>Records a payment; the same provider transaction twice is recorded once (<c>POST /v1/payments</c>).</summary>
    public Task<Payment> PostPaymentAsync(PostPayment payment, CancellationToken ct = default) => Send<Payment>(HttpMethod.Post, "v1/payments", payment, ct);

    /// <summary>Reverses a payment, giving the reason (<c>POST /v1/payments/{id}/reversal</c>).</summary>
    public Task<Payment> ReversePaymentAsync(Guid id, string reason, CancellationToken ct = default) =>
        Send<Payment>(HttpMethod.Post, $"v1/payments/{id}/reversal", new { reason }, ct);

    /// <summary>Walks the lender's audit hash chain (<c>GET /v1/audit/verify</c>).</summary>
    public Task<ChainCheck> VerifyAuditAsync(CancellationToken ct = default) => Send<ChainCheck>(HttpMethod.Get, "v1/audit/verify", null, ct);

    /// <summary>Signs the audit chain head now (<c>POST /v1/audit/checkpoints</c>, admin).</summary>
    public Task<AuditCheckpoint> CheckpointAuditAsync(CancellationToken ct = default) =>
        Send<AuditCheckpoint>(HttpMethod.Post, "v1/audit/checkpoints", null, ct);

    /// <summary>Audit events after seq <paramref name="after"/>, oldest first (<c>GET /v1/audit</c>).</summary>
    public Task<List<AuditEvent>> ListAuditEventsAsync(long? after = null, int? limit = null, CancellationToken ct = default) =>
        Send<List<AuditEvent>>(HttpMethod.Get, "v1/audit" + Query(("after", after?.ToString(CultureInfo.InvariantCulture)), ("limit", limit?.ToString(CultureInfo.InvariantCulture))), null, ct);

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
