namespace Lien.Server.Payments;

internal enum PaymentKind { Payment, Reversal }

/// <summary>An append-only ledger entry: a payment, or the reversal of one (negative amount).</summary>
internal sealed class Payment
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid PlanId { get; set; }
    public PaymentKind Kind { get; set; }
    public long Amount { get; set; }
    public required string Currency { get; set; }
    public required string Provider { get; set; }
    public required string ProviderTransactionId { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
    public Guid? ReversesId { get; set; }
    public string? Reason { get; set; }
    public required string Actor { get; set; }
}
