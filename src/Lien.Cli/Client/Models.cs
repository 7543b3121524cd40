using System.Text.Json.Serialization;
using Lien.Protocol;

namespace Lien.Cli.Client;

/// <summary>A lender's settings.</summary>
public sealed record LenderSettings(string? Name, string? LogoUrl, string? SupportPhone, string? ShortCode, string? SupportUrl,
    string? TimeZone, string? Currency, string? PolicyProfile, int? OfflineAllowanceHours, string? EnrollmentPolicy = null);

/// <summary>The calling key's lender.</summary>
public sealed record Lender(Guid Id, LenderSettings Settings, IReadOnlyList<TrustKey> TrustKeys, DateTimeOffset CreatedAt,
    IReadOnlyList<string>? Warnings = null);

/// <summary>A device registration to send.</summary>
public sealed record RegisterDevice(string Imei, string? Imei2 = null, string? Serial = null, string? Make = null, string? Model = null);

/// <summary>A registered device.</summary>
public sealed record Device(Guid Id, string Imei, string? Imei2, string? Serial, string? Make, string? Model, DateTimeOffset CreatedAt,
    DateTimeOffset? ReleasedAt, DateTimeOffset? EnrolledAt, DateTimeOffset? LastSeenAt, long LeaseSeq, LeaseMode LeaseMode, long AppliedSeq, Guid? ActivePlanId,
    string? EnrolledWith = null, WrongCodes? WrongCodes = null);

/// <summary>Offline codes the phone refused as wrong since it enrolled, as its agent last reported, and when it first reported that count.</summary>
public sealed record WrongCodes(int Count, DateTimeOffset? ReportedAt);

/// <summary>One page of a list; pass <see cref="Next"/> as <c>after</c> for the following page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>The outcome of a CSV import.</summary>
public sealed record ImportResult(int Registered, int Refused, IReadOnlyList<ImportedDevice> Devices, IReadOnlyList<ImportError> Errors);

/// <summary>A CSV row that was stored.</summary>
public sealed record ImportedDevice(int Line, Guid Id, string Imei);

/// <summary>A CSV row that was refused, with why.</summary>
public sealed record ImportError(int Line, string Reason);

/// <summary>How generated installments are laid out.</summary>
public sealed record GenerateSchedule(int Count, Frequency Frequency, DateOnly FirstDueDate);

/// <summary>One explicit installment.</summary>
public sealed record InstallmentInput(DateOnly DueDate, long Amount);

/// <summary>A plan to create: give <see cref="Installments"/> or <see cref="Generate"/>.</summary>
public sealed record CreatePlan(Guid DeviceId, long Price, long DownPayment = 0, string? Currency = null, string? BorrowerReference = null,
    IReadOnlyList<InstallmentInput>? Installments = null, GenerateSchedule? Generate = null, bool? Backdated = null);

/// <summary>An installment with what it has received.</summary>
public sealed record InstallmentView(int Number, DateOnly DueDate, long Amount, long Paid, long Outstanding);

/// <summary>The plan lifecycle the lender controls.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PlanLifecycle>))]
public enum PlanLifecycle { Active, PaidOff, Cancelled }

/// <summary>A plan with its computed standing.</summary>
public sealed record Plan(Guid Id, Guid DeviceId, string Reference, string? BorrowerReference, long Price, long DownPayment, string Currency,
    PlanLifecycle Lifecycle, PlanStatus Status, int DaysPastDue, long AmountOverdue, long Outstanding, long Paid, long Credit,
    DateOnly? NextDueDate, long NextDueAmount, IReadOnlyList<InstallmentView> Installments, DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt, string? CloseReason, DateTimeOffset? NextReviewAt, bool Backdated = false, long RefundDue = 0,
    DateTimeOffset? SettlementHoldUntil = null);

/// <summary>A payment to record; (provider, providerTransactionId) makes it idempotent.</summary>
public sealed record PostPayment(long Amount, string Currency, string Provider, string ProviderTransactionId, Guid? PlanId = null,
    string? PlanReference = null, DateTimeOffset? ReceivedAt = null);

/// <summary>Payment or reversal.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PaymentKind>))]
public enum PaymentKind { Payment, Reversal }

/// <summary>A ledger entry and the device's lease after it.</summary>
public sealed record Payment(Guid Id, Guid PlanId, PaymentKind Kind, long Amount, string Currency, string Provider, string ProviderTransactionId,
    DateTimeOffset ReceivedAt, DateTimeOffset RecordedAt, Guid? ReversesId, string? Reason, string Actor, LeaseMode LeaseMode, long LeaseSeq);

/// <summary>A lease as issued.</summary>
public sealed record Lease(long Seq, LeaseMode Mode, DateTimeOffset IssuedAt, DateTimeOffset? UnlockedUntil, string Reason, string Cause,
    string Kid, LockScreen Screen, bool Applied, string Jws);

/// <summary>The result of walking the audit hash chain.</summary>
public sealed record ChainCheck(long Checked, bool Intact, long? BrokenAt)
{
    /// <summary>Why the chain does not verify at <see cref="BrokenAt"/>; null when intact.</summary>
    public string? Problem { get; init; }

    /// <summary>The newest signed checkpoint the server held the chain against, if any.</summary>
    public AuditCheckpoint? Checkpoint { get; init; }
}

/// <summary>A signed checkpoint of the audit chain head: keep a copy outside Lien.</summary>
public sealed record AuditCheckpoint(long Seq, string Hash, DateTimeOffset At, string Jws);

/// <summary>One audit event as listed.</summary>
public sealed record AuditEvent(long Seq, DateTimeOffset At, string Actor, string Action, string Subject, string? Reason, string? Policy,
    string? Data, string Hash);

/// <summary>A device's one-time enrollment token: the token, until when, the provisioning QR code's JSON and that QR code as SVG.</summary>
public sealed record EnrollmentToken(Guid DeviceId, string Token, DateTimeOffset ExpiresAt, string Provisioning, string QrSvg);
