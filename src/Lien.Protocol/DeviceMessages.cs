using System.Globalization;

namespace Lien.Protocol;

/// <summary>
/// The server's answer to <c>POST /v1/device/enroll/challenge</c>: a single-use challenge (base64url) for the device to
/// put in its key's attestation and in its enrollment, when it runs out, and the server's clock (the device signs its
/// enrollment with this time, so a phone whose clock is wrong after a reset can still enroll).
/// </summary>
public sealed record EnrollmentChallenge(string Challenge, DateTimeOffset ExpiresAt, DateTimeOffset ServerTime);

/// <summary>
/// First contact of a device (protocol v2): its IMEIs and a fresh P-256 public key, signed with that key to prove
/// possession, over the server's <see cref="Challenge"/> and the device's own <see cref="Nonce"/> (echoed in the signed
/// answer, so an answer recorded earlier cannot pass for the answer to this request). What else it carries depends on the
/// lender's enrollment policy: <see cref="Attestation"/> (the Android Key Attestation chain of the key, base64 DER
/// certificates, leaf first) and/or <see cref="EnrollmentToken"/> (the one-time token from the provisioning QR code).
/// <see cref="Signature"/> is base64url ES256 (IEEE P1363, 64 bytes) over <see cref="SigningInput"/>.
/// </summary>
public sealed record EnrollRequest(
    IReadOnlyList<string> Imeis,
    string PublicKey,
    long SignedAt,
    string Nonce,
    string Challenge,
    string Signature,
    IReadOnlyList<string>? Attestation = null,
    string? EnrollmentToken = null)
{
    /// <summary>The exact bytes (UTF-8) the device signs: the attestation chain is not in it (it vouches for itself).</summary>
    public static string SigningInput(IReadOnlyList<string> imeis, string publicKey, long signedAt, string nonce, string challenge, string? enrollmentToken) =>
        string.Create(CultureInfo.InvariantCulture,
            $"lien-enroll-v2\n{string.Join(',', imeis)}\n{publicKey}\n{signedAt}\n{nonce}\n{challenge}\n{enrollmentToken}");
}

/// <summary>
/// The enrollment answer (signed ES256 by the lender's active key, header <c>Lien-Signature</c>): the device's id and
/// bearer token, its current lease, the lender's key-set statement, its offline codes and check-in answer key (each sealed
/// to the enrolled key), and the request's nonce echoed.
/// </summary>
public sealed record EnrollResponse(
    Guid DeviceId,
    Guid LenderId,
    string DeviceToken,
    long Seq,
    string Lease,
    KeySetStatement KeySet,
    DateTimeOffset NextCheckInAt,
    DateTimeOffset ServerTime,
    OfflineCodes? Codes = null,
    SealedAnswerKey? AnswerKey = null,
    string? Nonce = null);

/// <summary>
/// A periodic check-in: the highest lease seq the device has applied, its FCM token when that changed, how many offline
/// codes it refused as wrong since it enrolled (null: it has no offline codes to report on), and a fresh
/// <see cref="Nonce"/> (base64url, at most 64 bytes) the signed answer echoes.
/// </summary>
public sealed record CheckInRequest(long AppliedSeq, string? PushToken = null, int? WrongCodes = null, string? Nonce = null)
{
    /// <summary>The most <see cref="WrongCodes"/> a server accepts: far more than the agent's rate limit lets anyone type.</summary>
    public const int MaxWrongCodes = 1_000_000;
}

/// <summary>
/// The check-in answer (signed HS256 under the device's answer key, header <c>Lien-Signature</c>): the current lease
/// (JWS compact), the lender's key-set statement, when to check in next, and the request's nonce echoed.
/// </summary>
public sealed record CheckInResponse(
    long Seq,
    string Lease,
    KeySetStatement KeySet,
    DateTimeOffset NextCheckInAt,
    DateTimeOffset ServerTime,
    string? Nonce = null)
{
    /// <summary>A renewed device token, present when the one the check-in carried has less than half its life left.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceToken { get; init; }
}

/// <summary>
/// A dispute the borrower opens from the lock screen's Contact/Help (<c>POST /v1/device/dispute</c>): <see cref="Kind"/> is
/// <c>Paid</c> ("I have paid", with <see cref="TransactionReference"/>) or <c>Other</c> (with <see cref="Text"/>).
/// </summary>
public sealed record DisputeMessage(string Kind, string? TransactionReference, string? Text);

/// <summary>The server's answer to a dispute: its id, when it was opened, and the latest instant it holds a new lock back.</summary>
public sealed record DisputeAnswer(Guid Id, DateTimeOffset OpenedAt, DateTimeOffset HoldsLockUntil);
