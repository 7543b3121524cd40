using System.Net;
using System.Net.Http.Json;
using Lien.Server.Payments;

namespace Lien.TestSupport;

/// <summary>One request to pay as the provider was asked it, and where it stands.</summary>
public sealed record RecordedPaymentRequest(string Id, Guid LenderId, Guid PlanId, string Phone, long Amount, string Channel);

/// <summary>
/// The payment provider every test server has (<c>IPaymentRequests</c>, in place of the M-Pesa client): it records each
/// request to pay and answers Sent; the money comes when the test says so (<see cref="PayAsync"/>) through the real
/// <c>POST /v1/payments</c>, as a provider's callback would bring it, so the plan's progress and the unlock are real.
/// </summary>
public sealed class PaymentRequestRecorder : IPaymentRequests
{
    private readonly Lock _lock = new();
    private readonly List<RecordedPaymentRequest> _requests = [];
    private readonly Dictionary<string, PaymentRequestState> _states = [];

    /// <summary>False: answers as a server with no provider (NotConfigured).</summary>
    public bool Configured { get; set; } = true;

    public IReadOnlyList<RecordedPaymentRequest> Requests
    {
        get { lock (_lock) return [.. _requests]; }
    }

    /// <summary>The borrower entered the PIN: the payment is recorded through the lender's API (<paramref name="lender"/>) and the request is Paid.</summary>
    public async Task PayAsync(string requestId, HttpClient lender, string currency = "KES")
    {
        RecordedPaymentRequest r;
        lock (_lock) r = _requests.Single(x => x.Id == requestId);
        var receipt = "R" + requestId[^9..].ToUpperInvariant();
        var answer = await lender.PostAsJsonAsync("/v1/payments",
            new { planId = r.PlanId, amount = r.Amount, currency, provider = "mpesa", providerTransactionId = receipt });
        Assert.True(answer.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        Set(requestId, PaymentRequestStatus.Paid, receipt, null);
    }

    /// <summary>The request ended without money: <paramref name="status"/> Cancelled (by the borrower), TimedOut or Failed.</summary>
    public void End(string requestId, string status, string message) => Set(requestId, Enum.Parse<PaymentRequestStatus>(status), null, message);

    private void Set(string requestId, PaymentRequestStatus status, string? receipt, string? message)
    {
        lock (_lock) _states[requestId] = _states[requestId] with { Status = status, Receipt = receipt, Message = message };
    }

    Task<PaymentRequestOutcome> IPaymentRequests.RequestAsync(Guid lenderId, Guid planId, string phoneE164, long amountMinor, string channel, CancellationToken ct)
    {
        if (!Configured)
            return Task.FromResult<PaymentRequestOutcome>(new PaymentRequestOutcome.NotConfigured("This lender takes no M-Pesa requests from Lien; pay by paybill with the account number shown."));
        var id = "ws_CO_" + Guid.NewGuid().ToString("N");
        lock (_lock)
        {
            _requests.Add(new RecordedPaymentRequest(id, lenderId, planId, phoneE164, amountMinor, channel));
            _states[id] = new PaymentRequestState(id, PaymentRequestStatus.Pending, amountMinor, null, null, DateTimeOffset.UnixEpoch);
        }
        return Task.FromResult<PaymentRequestOutcome>(new PaymentRequestOutcome.Sent(id));
    }

    Task<PaymentRequestState?> IPaymentRequests.StatusAsync(Guid lenderId, string requestId, CancellationToken ct)
    {
        lock (_lock)
            return Task.FromResult(_states.TryGetValue(requestId, out var s) && _requests.Any(r => r.Id == requestId && r.LenderId == lenderId) ? s : null);
    }
}
