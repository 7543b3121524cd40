namespace Lien.Server.Payments;

/// <summary>
/// Asks a borrower's mobile-money provider to collect a payment from their phone (M-Pesa's STK push: the phone shows a
/// PIN prompt) and tells how the request went. The pay page and the USSD menu call it; the money itself arrives later
/// through the provider's callback and <see cref="PaymentLedger"/>, never through this. M-Pesa (<c>Mpesa/MpesaPayments</c>) is the provider; a lender with no M-Pesa account gets NotConfigured.
/// </summary>
internal interface IPaymentRequests
{
    /// <summary>Sends a request to pay <paramref name="amountMinor"/> towards the plan from <paramref name="phoneE164"/>; <paramref name="channel"/> says where it came from ("pay-page", "ussd").</summary>
    Task<PaymentRequestOutcome> RequestAsync(Guid lenderId, Guid planId, string phoneE164, long amountMinor, string channel, CancellationToken ct);

    /// <summary>The request's state now, or null when the lender has no such request.</summary>
    Task<PaymentRequestState?> StatusAsync(Guid lenderId, string requestId, CancellationToken ct);
}

internal abstract record PaymentRequestOutcome
{
    private PaymentRequestOutcome() { }

    /// <summary>The provider took the request; the borrower's phone is asked for the PIN.</summary>
    public sealed record Sent(string RequestId) : PaymentRequestOutcome;

    /// <summary>The lender has no provider configured for requests to pay.</summary>
    public sealed record NotConfigured(string Message) : PaymentRequestOutcome;

    /// <summary>Lien refused the request (amount, phone number, plan state): nothing was sent.</summary>
    public sealed record Refused(string Message) : PaymentRequestOutcome;

    /// <summary>The provider refused or could not be reached.</summary>
    public sealed record ProviderFailed(string Message) : PaymentRequestOutcome;
}

internal enum PaymentRequestStatus { Pending, Paid, Cancelled, TimedOut, Failed }

/// <summary>A request to pay as it stands: <paramref name="Receipt"/> is the provider's receipt once paid.</summary>
internal sealed record PaymentRequestState(string RequestId, PaymentRequestStatus Status, long AmountMinor, string? Receipt, string? Message, DateTimeOffset UpdatedAt);
