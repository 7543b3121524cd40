using System.Globalization;

namespace Lien.Protocol;

/// <summary>
/// First contact of a device: its IMEIs and a fresh P-256 public key, signed with that key to prove possession.
/// <see cref="Signature"/> is base64url ES256 (IEEE P1363, 64 bytes) over <see cref="SigningInput"/>.
/// </summary>
public sealed record EnrollRequest(IReadOnlyList<string> Imeis, string PublicKey, long SignedAt, string Signature)
{
    /// <summary>The exact bytes (UTF-8) the device signs.</summary>
    public static string SigningInput(IReadOnlyList<string> imeis, string publicKey, long signedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"lien-enroll-v1\n{string.Join(',', imeis)}\n{publicKey}\n{signedAt}");
}

/// <summary>The enrollment answer: the device's id and bearer token, its current lease and the lender's trust keys.</summary>
public sealed record EnrollResponse(
    Guid DeviceId,
    Guid LenderId,
    string DeviceToken,
    long Seq,
    string Lease,
    IReadOnlyList<TrustKey> TrustKeys,
    DateTimeOffset NextCheckInAt,
    DateTimeOffset ServerTime,
    OfflineCodes? Codes = null);

/// <summary>A periodic check-in: the highest lease seq the device has applied, and its FCM token when that changed.</summary>
public sealed record CheckInRequest(long AppliedSeq, string? PushToken = null);

/// <summary>The check-in answer: the current lease (JWS compact), the trust keys, and when to check in next.</summary>
public sealed record CheckInResponse(
    long Seq,
    string Lease,
    IReadOnlyList<TrustKey> TrustKeys,
    DateTimeOffset NextCheckInAt,
    DateTimeOffset ServerTime)
{
    /// <summary>A renewed device token, present when the one the check-in carried has less than half its life left.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceToken { get; init; }
}
