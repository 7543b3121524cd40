using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Devices;
using Lien.Server.Plans;
using Lien.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lien.Server.Payments;

/// <summary>How a payment's account reference found its plan, or why it found none.</summary>
internal enum MatchRule { PlanReference, Imei, BorrowerPhone, NearMiss, Ambiguous, None }

/// <summary>
/// What an account reference names: a plan (<see cref="Plan"/> set, by <see cref="Rule"/>), a plan proposed but not
/// applied (<see cref="MatchRule.NearMiss"/>: <see cref="Proposed"/>), or nothing.
/// </summary>
internal sealed record PaymentMatch(MatchRule Rule, Plan? Plan, Guid? Proposed = null, string? Note = null)
{
    public bool Matched => Plan is not null;
}

/// <summary>Account references as borrowers type them; pure.</summary>
internal static class AccountReferences
{
    /// <summary>Upper case, without spaces, dashes, dots or underscores: <c>ln-7f3k 2a</c> and <c>LN7F3K2A</c> are one reference.</summary>
    public static string Normalize(string reference)
    {
        Span<char> s = stackalloc char[Math.Min(reference.Length, 64)];
        var n = 0;
        foreach (var c in reference)
        {
            if (c is ' ' or '-' or '.' or '_' || char.IsWhiteSpace(c)) continue;
            if (n == s.Length) break;
            s[n++] = char.ToUpperInvariant(c);
        }
        return new string(s[..n]);
    }

    /// <summary>
    /// The plan reference <paramref name="typed"/> names as PlanBook writes it (<c>ln 4k-7q2x</c> is <c>LN-4K7Q2X</c>: every
    /// reference is LN- and upper-case letters and digits), or null when it cannot be one.
    /// </summary>
    public static string? AsPlanReference(string? typed) =>
        typed is null ? null : Normalize(typed) is { Length: > 2 } n && n.StartsWith("LN", StringComparison.Ordinal) ? "LN-" + n[2..] : null;

    /// <summary>
    /// True when <paramref name="a"/> and <paramref name="b"/> are one edit apart: one character substituted, inserted,
    /// deleted, or two neighbours swapped (optimal string alignment distance 1). Equal strings are not a near miss.
    /// </summary>
    public static bool OneEditApart(string a, string b)
    {
        if (a == b || Math.Abs(a.Length - b.Length) > 1) return false;
        if (a.Length == b.Length)
        {
            var first = -1;
            for (var i = 0; i < a.Length; i++)
            {
                if (a[i] == b[i]) continue;
                if (first < 0) { first = i; continue; }
                // A second difference: only a swap of the two neighbours at first and first + 1 is one edit.
                return i == first + 1 && a[first] == b[i] && a[i] == b[first] && a.AsSpan(i + 1).SequenceEqual(b.AsSpan(i + 1));
            }
            return true; // exactly one substitution
        }
        var (shorter, longer) = a.Length < b.Length ? (a, b) : (b, a);
        var k = 0;
        while (k < shorter.Length && shorter[k] == longer[k]) k++;
        return shorter.AsSpan(k).SequenceEqual(longer.AsSpan(k + 1));
    }

    /// <summary>The reference as an IMEI (15 digits, Luhn), or null.</summary>
    public static string? AsImei(string reference)
    {
        var digits = Normalize(reference);
        return digits.Length == 15 && digits.All(char.IsAsciiDigit) && Imei.IsValid(digits) ? digits : null;
    }
}

/// <summary>
/// Finds the plan a payment's account reference names, by rules in order: the plan reference (ignoring case, spaces and
/// dashes), an IMEI of the plan's device, the borrower's registered phone number; a reference one character off a plan
/// reference is proposed, never applied. Only active plans of the lender are matched; reading only, it writes nothing.
/// </summary>
internal sealed class PaymentMatcher(LienDb db)
{
    // Every read is untracked: the match is made before the payment's unit of work, and the ledger must read the plan
    // afresh inside it (a tracked copy from here would be what EF hands back there, stale if a payment came in between).
    private static readonly CompiledQuery<Func<LienDb, Guid, string, CancellationToken, Task<Plan?>>> ByReference = new(() => EF.CompileAsyncQuery(
        (LienDb db, Guid lenderId, string reference, CancellationToken ct) =>
            db.Plans.AsNoTracking().FirstOrDefault(p => p.LenderId == lenderId && p.Reference == reference && p.Lifecycle != PlanLifecycle.Cancelled)));

    public async Task<PaymentMatch> MatchAsync(Guid lenderId, string? accountReference, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(accountReference)) return new PaymentMatch(MatchRule.None, null, Note: "No account reference.");
        var normalized = AccountReferences.Normalize(accountReference);
        if (normalized.Length == 0) return new PaymentMatch(MatchRule.None, null, Note: "No account reference.");

        // A plan reference is a single indexed read — never a scan of the lender's plans per payment.
        if (AccountReferences.AsPlanReference(accountReference) is { } reference && await ByReference.For(db)(db, lenderId, reference, ct) is { } direct)
            return new PaymentMatch(MatchRule.PlanReference, direct);

        if (AccountReferences.AsImei(accountReference) is { } imei)
        {
            var plans = await db.Set<DeviceImei>().AsNoTracking().Where(i => i.Imei == imei && i.LenderId == lenderId && i.ReleasedAt == null)
                .Join(db.Plans, i => i.DeviceId, p => p.DeviceId, (_, p) => p)
                .Where(p => p.Lifecycle == PlanLifecycle.Active).OrderBy(p => p.Id).Take(2).ToListAsync(ct);
            if (plans.Count == 1) return new PaymentMatch(MatchRule.Imei, plans[0]);
        }

        if (Phones.Normalize(accountReference) is { } phone)
        {
            var plans = await db.Plans.AsNoTracking().Where(p => p.LenderId == lenderId && p.BorrowerPhone == phone && p.Lifecycle == PlanLifecycle.Active)
                .OrderBy(p => p.Id).Take(2).ToListAsync(ct);
            if (plans.Count == 1) return new PaymentMatch(MatchRule.BorrowerPhone, plans[0]);
            if (plans.Count > 1)
                return new PaymentMatch(MatchRule.Ambiguous, null, Note: "The phone number is registered for more than one active plan.");
        }

        // A near miss reads the lender's active references: only for a payment that matched nothing, which is rare.
        var references = await db.Plans.AsNoTracking().Where(p => p.LenderId == lenderId && p.Lifecycle == PlanLifecycle.Active)
            .Select(p => new { p.Id, p.Reference }).ToListAsync(ct);
        var near = references.Where(r => AccountReferences.OneEditApart(normalized, AccountReferences.Normalize(r.Reference))).Take(2).ToList();
        return near.Count == 1
            ? new PaymentMatch(MatchRule.NearMiss, null, near[0].Id, $"One character off plan reference {near[0].Reference}.")
            : new PaymentMatch(MatchRule.None, null, Note: near.Count > 1 ? "One character off more than one plan reference." : "Names no plan.");
    }
}
