using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lien.Protocol;

/// <summary>What a lease tells the device to be.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LeaseMode>))]
public enum LeaseMode
{
    /// <summary>Usable until <see cref="LeaseClaims.UnlockedUntil"/> (no deadline when that is null).</summary>
    Unlocked,
    /// <summary>Locked: only the lock screen, emergency and incoming calls.</summary>
    Locked,
    /// <summary>Paid off or released by the lender: free for good. Final.</summary>
    Released,
}

/// <summary>What the lock screen shows: who the lender is, what is owed and how to pay.</summary>
public sealed record LockScreen(
    string Lender,
    string? LogoUrl,
    string? SupportPhone,
    string? ShortCode,
    string? SupportUrl,
    long AmountDueMinor,
    string Currency,
    string? PayReference,
    string? PayUrl,
    string Message);

/// <summary>
/// What the borrower should be told now, carried in the lease (optional: agents that predate it ignore it). A new notice
/// comes in a new lease; a lease that only renews keeps the notice it had. <see cref="Kind"/>: reminder, due-today,
/// overdue, first-notice, second-notice, lock-warning, locked, unlocked, paid-off, released. <see cref="Installment"/>:
/// the installment it is about (0: none). <see cref="At"/>: when the notice was first issued. <see cref="AmountMinor"/>:
/// what to pay (in <see cref="Currency"/>). <see cref="Deadline"/>: the instant it names (the due date's end, the pay-by
/// instant of a formal notice, the lock instant of a lock warning). <see cref="Text"/>: the words, in the lender's language.
/// </summary>
public sealed record Notice(string Kind, int Installment, DateTimeOffset At, long AmountMinor, string Currency, DateTimeOffset? Deadline, string Text);

/// <summary>The signed statement a device obeys. Serialized as the JWS payload.</summary>
public sealed record LeaseClaims(
    Guid LenderId,
    Guid DeviceId,
    IReadOnlyList<string> Imeis,
    long Seq,
    DateTimeOffset IssuedAt,
    LeaseMode Mode,
    DateTimeOffset? UnlockedUntil,
    LockScreen Screen,
    string Reason,
    Notice? Notice = null)
{
    /// <summary>The JSON options every lease is written and read with.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The media type in the JWS header's <c>typ</c>.</summary>
    public const string MediaType = "lien-lease+jwt";
}
