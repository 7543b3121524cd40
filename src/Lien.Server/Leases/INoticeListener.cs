using Lien.Server.Storage;

namespace Lien.Server.Leases;

/// <summary>
/// A notice the borrower should get now, decided by a plan review and written with its lease in one transaction.
/// <see cref="Kind"/> is one of <see cref="NoticeKinds"/>; <see cref="Amount"/> is in minor units of <see cref="Currency"/>;
/// <see cref="Deadline"/> is the instant the notice names (the due date's end, the lock instant, the payment deadline).
/// </summary>
internal sealed record NoticeIssued(
    Guid LenderId, Guid DeviceId, Guid PlanId, string Kind, DateTimeOffset At, long Amount, string Currency,
    DateTimeOffset? Deadline, long LeaseSeq);

/// <summary>The notice kinds a review can decide (the phone's notification, the SMS template, the webhook all key on them).</summary>
internal static class NoticeKinds
{
    public const string Reminder = "reminder";
    public const string DueToday = "due-today";
    public const string Overdue = "overdue";
    public const string LockWarning = "lock-warning";
    public const string Locked = "locked";
    public const string FirstNotice = "first-notice";
    public const string SecondNotice = "second-notice";
    public const string Unlocked = "unlocked";
    public const string PaidOff = "paid-off";
    public const string Released = "released";

    public static readonly IReadOnlyList<string> All =
        [Reminder, DueToday, Overdue, LockWarning, Locked, FirstNotice, SecondNotice, Unlocked, PaidOff, Released];
}

/// <summary>
/// Told, inside the transaction that writes the lease, of each new notice (the SMS outbox is one). Registered as
/// <c>IEnumerable&lt;INoticeListener&gt;</c>; none registered is valid.
/// </summary>
internal interface INoticeListener
{
    Task NoticeIssuedAsync(LienDb db, NoticeIssued notice, CancellationToken ct);
}
