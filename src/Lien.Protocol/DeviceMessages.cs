using System.Globalization;

namespace Lien.Protocol;

/// <summary>
/// First contact of a device: its IMEIs and a fresh P-256 public key, signed with that key to prove possession.
/// <see cref="Signature"/> is base64url ES256 (IEEE P1363, 64 bytes) over <see cref="SigningInput"/>.
/// <see cref="Nonce"/> (base64url, device-chosen) comes back in the answer, so an answer recorded earlier cannot pass for
/// the answer to this request.
/// </summary>
public sealed record EnrollRequest(IReadOnlyList<string> Imeis, string PublicKey, long SignedAt, string Signature, string? Nonce = null)
{
    /// <summary>The exact bytes (UTF-8) the device signs.</summary>
    public static string SigningInput(IReadOnlyList<string> imeis, string publicKey, long signedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"lien-enroll-v1\n{string.Join(',', imeis)}\n{publicKey}\n{signedAt}");
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
/// A periodic check-in: the highest lease seq the device has applied, its FCM token when that changed, and a fresh
/// <see cref="Nonce"/> (base64url, at most 64 bytes) the signed answer echoes.
/// </summary>
public sealed record CheckInRequest(long AppliedSeq, string? PushToken = null, string? Nonce = null);

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
    string? Nonce = null);
