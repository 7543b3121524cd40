using Lien.Server.Audit;

namespace Lien.Server.Webhooks;

/// <summary>
/// The event types a webhook endpoint can receive: audit actions by name (<see cref="AuditAction"/> is the catalogue),
/// and <see cref="LeaseApplied"/>, which the device's acknowledgement raises without an audit event (it is the check-in
/// hot path, and not a change of state the lender made).
/// </summary>
internal static class WebhookEventTypes
{
    public const string LeaseApplied = "lease.applied";

    /// <summary>In an endpoint's list: every type, those added later too.</summary>
    public const string Every = "*";

    // Disputes are opened and resolved by the lifecycle work (issue 12, item 5), which adds these audit actions.
    public const string DisputeOpened = "dispute.opened";
    public const string DisputeResolved = "dispute.resolved";

    public static readonly IReadOnlyList<string> All =
    [
        AuditAction.DeviceLocked.Name, AuditAction.DeviceUnlocked.Name, AuditAction.DeviceReleased.Name,
        AuditAction.PaymentRecorded.Name, AuditAction.PaymentReversed.Name, AuditAction.PlanPaidOff.Name,
        DisputeOpened, DisputeResolved, AuditAction.NoticeSent.Name, AuditAction.NoticeFailed.Name, LeaseApplied,
    ];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string type) => Known.Contains(type);
}
