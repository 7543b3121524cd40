using Lien.Server.Devices;
using Lien.Server.Lenders;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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

    /// <summary>Where the borrower's SMS notices go (E.164, e.g. +254712345678); none without it.</summary>
    public string? BorrowerPhone { get; set; }

    /// <summary>The language of the borrower's SMS notices (<c>en</c>, <c>sw</c>); English when not given.</summary>
    public string? BorrowerLanguage { get; set; }
    public long Price { get; set; }
    public long DownPayment { get; set; }
    public required string Currency { get; set; }
    public PlanLifecycle Lifecycle { get; set; }
    public long PaidTotal { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public string? CloseReason { get; set; }
    public DateTimeOffset? NextReviewAt { get; set; }

    /// <summary>When the plan's open dispute was opened (null: none open); copied here so a review reads no other table.</summary>
    public DateTimeOffset? DisputeOpenedAt { get; set; }

    /// <summary>A promise-to-pay staff granted: no lock before the end of this date.</summary>
    public DateOnly? PromisedUntil { get; set; }

    /// <summary>A goodwill unlock staff granted: no lock before this instant.</summary>
    public DateTimeOffset? GoodwillUntil { get; set; }

    /// <summary>What holds a lock back, as the policy reads it.</summary>
    public PlanHolds Holds() => DisputeOpenedAt is null && PromisedUntil is null && GoodwillUntil is null
        ? PlanHolds.None
        : new PlanHolds(DisputeOpenedAt, PromisedUntil, GoodwillUntil);
    /// <summary>Created with a first installment already past due, on purpose (a loan moved from another system).</summary>
    public bool Backdated { get; set; }

    /// <summary>
    /// The borrower's pay link's secret (<c>/p/{token}</c>: 20 base32 characters, 100 random bits), given at the plan's
    /// first review (<see cref="NewPayToken"/>); whoever holds it sees this plan's pay page and nothing else.
    /// </summary>
    public string? PayToken { get; set; }

    /// <summary>
    /// The due date of the oldest installment not yet paid in full (null: nothing left to pay), as the policy's allocation
    /// saw it at the last review; days past due are today minus this date once it has passed, so the console filters and
    /// counts arrears in SQL without reading every schedule.
    /// </summary>
    public DateOnly? OldestUnpaidDue { get; set; }

    /// <summary>Bumped on every change so two concurrent writers cannot both win.</summary>
    public int Version { get; set; }

    public List<PlanInstallment> Installments { get; set; } = [];

    /// <summary>
    /// The schedule as one short text (<see cref="Plans.ScheduleRuns"/>), written with <see cref="Installments"/> by
    /// <see cref="SetSchedule"/>: a payment or a review reads it with the plan's row instead of a row per installment.
    /// </summary>
    public string? ScheduleRuns { get; set; }

    /// <summary>
    /// The schedule read without tracking (<see cref="Schedules"/>), for a path that never changes it and would
    /// rather not track a row per installment; when null, <see cref="Installments"/> is the schedule.
    /// </summary>
    public IReadOnlyList<Installment>? Schedule { get; set; }

    /// <summary>Gives a new plan its schedule: the installments' rows and the same schedule as <see cref="ScheduleRuns"/>.</summary>
    public void SetSchedule(IReadOnlyList<Installment> schedule)
    {
        Installments = schedule.Select(i => new PlanInstallment { Number = i.Number, DueDate = i.DueDate, Amount = i.Amount }).ToList();
        ScheduleRuns = Plans.ScheduleRuns.Encode(schedule);
    }

    /// <summary>Closes the plan as cancelled (by staff, an early release, a repossession): never reviewed by the scheduler again.</summary>
    public void Cancel(DateTimeOffset now, string reason)
    {
        Lifecycle = PlanLifecycle.Cancelled;
        ClosedAt = now;
        CloseReason = reason;
        NextReviewAt = null;
    }

    /// <summary>Keeps what the policy's allocation says is the oldest unpaid installment (see <see cref="OldestUnpaidDue"/>).</summary>
    public void Note(PlanState? state)
    {
        if (state is null) return;
        OldestUnpaidDue = state.Allocation.Installments.FirstOrDefault(r => r.Outstanding > 0)?.Installment.DueDate;
    }

    /// <summary>
    /// What the policy needs to know of the plan: its schedule, currency, whether it is cancelled, its pay reference and
    /// the pay page's address the lock screen shows (<paramref name="payUrl"/>; null where no lease is written).
    /// </summary>
    public PlanTerms Terms(string? payUrl = null) => new(
        Schedule ?? Installments.OrderBy(i => i.Number).Select(i => new Installment(i.Number, i.DueDate, i.Amount)).ToList(),
        Currency, Lifecycle == PlanLifecycle.Cancelled, Reference, payUrl, PaidOffAt: Lifecycle == PlanLifecycle.PaidOff ? ClosedAt : null);

    /// <summary>A fresh pay-link secret: 100 random bits in lower-case base32 (no look-alike letters), short enough for a QR code.</summary>
    public static string NewPayToken()
    {
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        Span<char> s = stackalloc char[PayTokenLength];
        for (var i = 0; i < s.Length; i++) s[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        return new string(s);
    }

    public const int PayTokenLength = 20;

    /// <summary>The plan's standing now, in the lender's time zone.</summary>
    public PlanState State(Lender lender, DateTimeOffset now) =>
        Policy.StateOf(Terms(), PaidTotal, TimeZoneInfo.FindSystemTimeZoneById(lender.TimeZone), now);
}

internal sealed class PlanConfiguration : IEntityTypeConfiguration<Plan>
{
    public void Configure(EntityTypeBuilder<Plan> e)
    {
        e.Property(x => x.Reference).HasMaxLength(16);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.BorrowerPhone).HasMaxLength(16);
        e.Property(x => x.BorrowerLanguage).HasMaxLength(8);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.Ignore(x => x.Schedule);
        e.HasIndex(x => x.Reference).IsUnique();
        e.Property(x => x.PayToken).HasMaxLength(Plan.PayTokenLength);
        e.HasIndex(x => x.PayToken).IsUnique();
        e.HasIndex(x => x.BorrowerPhone);
        e.HasIndex(x => x.DeviceId).IsUnique().HasFilter("\"Lifecycle\" = 'Active'").HasDatabaseName("IX_Plans_DeviceId_Active");
        e.HasIndex(x => new { x.LenderId, x.CreatedAt });
        e.HasIndex(x => x.NextReviewAt);
        e.HasIndex(x => new { x.LenderId, x.OldestUnpaidDue });
        e.HasMany(x => x.Installments).WithOne().HasForeignKey(x => x.PlanId);
        e.HasOne<Device>().WithMany().HasForeignKey(x => x.DeviceId);
        e.HasOne<Lender>().WithMany().HasForeignKey(x => x.LenderId);
    }
}
