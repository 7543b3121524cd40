namespace Lien.Server.Plans;

internal enum PlanLifecycle { Active, PaidOff, Cancelled }

/// <summary>An installment plan for one device. Its status (current/overdue) is computed by the policy, never stored.</summary>
internal sealed class Plan
{
    public Guid Id { get; set; }
    public Guid LenderId { get; set; }
    public Guid DeviceId { get; set; }
    public required string Reference { get; set; }
    public string? BorrowerReference { get; set; }
    public long Price { get; set; }
    public long DownPayment { get; set; }
    public required string Currency { get; set; }
    public PlanLifecycle Lifecycle { get; set; }
    public long PaidTotal { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public string? CloseReason { get; set; }
    public DateTimeOffset? NextReviewAt { get; set; }

    /// <summary>Bumped on every change so two concurrent writers cannot both win.</summary>
    public int Version { get; set; }

    public List<PlanInstallment> Installments { get; set; } = [];
}

internal sealed class PlanInstallment
{
    public Guid PlanId { get; set; }
    public int Number { get; set; }
    public DateOnly DueDate { get; set; }
    public long Amount { get; set; }
}
