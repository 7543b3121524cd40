using Lien.Protocol;

namespace Lien.Server.Audit;

/// <summary>
/// What an audit event records. Every action the server writes is one of the catalogue below, so the list is the
/// contract for anyone reading the trail and for webhook event types (<c>Webhooks/WebhookEventTypes</c>); a new action is added here first.
/// </summary>
internal sealed record AuditAction
{
    private AuditAction(string name) => Name = name;

    public string Name { get; }

    public override string ToString() => Name;

    public static readonly AuditAction LenderCreated = new("lender.created");
    public static readonly AuditAction LenderUpdated = new("lender.updated");
    public static readonly AuditAction LenderKeyRotated = new("lender.key-rotated");
    public static readonly AuditAction LenderKeyRevoked = new("lender.key-revoked");
    public static readonly AuditAction ApiKeyCreated = new("api-key.created");
    public static readonly AuditAction ApiKeyRevoked = new("api-key.revoked");
    public static readonly AuditAction DeviceRegistered = new("device.registered");
    public static readonly AuditAction DeviceEnrolled = new("device.enrolled");
    public static readonly AuditAction DeviceReEnrolled = new("device.re-enrolled");
    public static readonly AuditAction DeviceEnrollmentRefused = new("device.enrollment-refused");
    public static readonly AuditAction EnrollmentTokenIssued = new("device.enrollment-token-issued");
    public static readonly AuditAction DeviceUnlocked = new("device.unlocked");
    public static readonly AuditAction DeviceLocked = new("device.locked");
    public static readonly AuditAction DeviceReleased = new("device.released");
    public static readonly AuditAction LeaseRenewed = new("lease.renewed");
    public static readonly AuditAction PlanCreated = new("plan.created");
    public static readonly AuditAction PlanCancelled = new("plan.cancelled");
    public static readonly AuditAction PlanPaidOff = new("plan.paid-off");
    public static readonly AuditAction PlanCreditRecorded = new("plan.credit-recorded");
    public static readonly AuditAction CertificateIssued = new("certificate.issued");
    public static readonly AuditAction CertificateResigned = new("certificate.re-signed");
    public static readonly AuditAction PaymentRecorded = new("payment.recorded");
    public static readonly AuditAction PaymentReversed = new("payment.reversed");
    public static readonly AuditAction CodeIssued = new("code.issued");
    public static readonly AuditAction CodeApprovalGranted = new("code.approval-granted");
    public static readonly AuditAction DeviceWrongCodes = new("device.wrong-codes");
    public static readonly AuditAction DisputeOpened = new("dispute.opened");
    public static readonly AuditAction DisputeResolved = new("dispute.resolved");
    public static readonly AuditAction DisputeExpired = new("dispute.expired");
    public static readonly AuditAction PlanPromiseToPay = new("plan.promise-to-pay");
    public static readonly AuditAction DeviceGoodwillUnlock = new("device.goodwill-unlock");
    public static readonly AuditAction DeviceLockedByStaff = new("device.locked-by-staff");
    public static readonly AuditAction DeviceReleasedEarly = new("device.released-early");
    public static readonly AuditAction DeviceRepossessed = new("device.repossessed");
    public static readonly AuditAction DeviceRestocked = new("device.restocked");
    public static readonly AuditAction NoticeSent = new("notice.sent");
    public static readonly AuditAction NoticeFailed = new("notice.failed");
    public static readonly AuditAction NoticeTemplateChanged = new("notice.template-changed");
    public static readonly AuditAction WebhookEndpointCreated = new("webhook.endpoint-created");
    public static readonly AuditAction WebhookEndpointUpdated = new("webhook.endpoint-updated");
    public static readonly AuditAction WebhookEndpointDeleted = new("webhook.endpoint-deleted");
    public static readonly AuditAction WebhookEndpointDisabled = new("webhook.endpoint-disabled");
    public static readonly AuditAction PaymentUnmatched = new("payment.unmatched");
    public static readonly AuditAction PaymentAssigned = new("payment.assigned");
    public static readonly AuditAction PaymentRefundDue = new("payment.refund-due");
    public static readonly AuditAction MpesaSettingsChanged = new("mpesa.settings-changed");
    public static readonly AuditAction MpesaPathSecretRotated = new("mpesa.path-secret-rotated");
    public static readonly AuditAction MpesaUrlsRegistered = new("mpesa.urls-registered");
    public static readonly AuditAction MpesaPaymentRequested = new("mpesa.payment-requested");
    public static readonly AuditAction MpesaPaymentEnded = new("mpesa.payment-ended");
    public static readonly AuditAction BorrowerPayRequested = new("borrower.pay-requested");
    public static readonly AuditAction BorrowerCallbackRequested = new("borrower.callback-requested");
    public static readonly AuditAction BorrowerCallbackDone = new("borrower.callback-done");
    public static readonly AuditAction ConsoleUserInvited = new("console.user-invited");
    public static readonly AuditAction ConsoleUserReset = new("console.user-reset");
    public static readonly AuditAction ConsoleUserRole = new("console.user-role");
    public static readonly AuditAction ConsoleTwoFactorChanged = new("console.two-factor-changed");

    /// <summary>Every action, in catalogue order.</summary>
    public static readonly IReadOnlyList<AuditAction> All =
    [
        LenderCreated, LenderUpdated, LenderKeyRotated, LenderKeyRevoked, ApiKeyCreated, ApiKeyRevoked, DeviceRegistered, DeviceEnrolled,
        DeviceReEnrolled, DeviceEnrollmentRefused, EnrollmentTokenIssued, DeviceUnlocked, DeviceLocked, DeviceReleased, LeaseRenewed, PlanCreated,
        PlanCancelled, PlanPaidOff, PlanCreditRecorded, CertificateIssued, CertificateResigned, PaymentRecorded, PaymentReversed, CodeIssued,
        CodeApprovalGranted, DeviceWrongCodes, DisputeOpened, DisputeResolved, DisputeExpired, PlanPromiseToPay, DeviceGoodwillUnlock,
        DeviceLockedByStaff, DeviceReleasedEarly, DeviceRepossessed, DeviceRestocked, NoticeSent, NoticeFailed, NoticeTemplateChanged,
        WebhookEndpointCreated, WebhookEndpointUpdated, WebhookEndpointDeleted, WebhookEndpointDisabled, PaymentUnmatched, PaymentAssigned,
        PaymentRefundDue, MpesaSettingsChanged, MpesaPathSecretRotated, MpesaUrlsRegistered, MpesaPaymentRequested, MpesaPaymentEnded,
        BorrowerPayRequested, BorrowerCallbackRequested, BorrowerCallbackDone, ConsoleUserInvited, ConsoleUserReset, ConsoleUserRole,
        ConsoleTwoFactorChanged,
    ];

    /// <summary>The action of a lease that puts the device in <paramref name="mode"/>.</summary>
    public static AuditAction DeviceEntered(LeaseMode mode) => mode switch
    {
        LeaseMode.Unlocked => DeviceUnlocked,
        LeaseMode.Locked => DeviceLocked,
        LeaseMode.Released => DeviceReleased,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "No audit action for this lease mode."),
    };
}
