namespace Lien.Protocol.Lending;

/// <summary>One installment of a plan: due at the end of <see cref="DueDate"/> in the lender's time zone.</summary>
public sealed record Installment(int Number, DateOnly DueDate, long Amount);

/// <summary>How often generated installments fall due.</summary>
public enum Frequency { Monthly, Weekly, Daily }

/// <summary>Builds installment schedules.</summary>
public static class Schedule
{
    /// <summary>The earliest date an installment may fall due.</summary>
    public static readonly DateOnly EarliestDueDate = new(2000, 1, 1);

    /// <summary>The latest date an installment may fall due.</summary>
    public static readonly DateOnly LatestDueDate = new(2100, 12, 31);

    /// <summary>The most installments a plan may have.</summary>
    public const int MaxInstallments = 1000;

    /// <summary>
    /// Splits <paramref name="total"/> into <paramref name="count"/> installments from <paramref name="firstDue"/>;
    /// every installment is the rounded-down share and the remainder goes to the last one.
    /// Monthly dates keep the first date's day, clamped to the month's length (31 Jan, 28 Feb, 31 Mar …).
    /// Dates may run past <see cref="LatestDueDate"/> (<see cref="Problem"/> says so) but never overflow: the first is
    /// checked to lie between <see cref="EarliestDueDate"/> and <see cref="LatestDueDate"/>, and there are at most
    /// <see cref="MaxInstallments"/>.
    /// </summary>
    public static IReadOnlyList<Installment> Generate(long total, int count, Frequency frequency, DateOnly firstDue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxInstallments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstDue, EarliestDueDate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstDue, LatestDueDate);
        if (!Enum.IsDefined(frequency)) throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "Not a frequency.");
        var share = total / count;
        var list = new List<Installment>(count);
        for (var i = 0; i < count; i++)
        {
            var due = frequency switch
            {
                Frequency.Monthly => firstDue.AddMonths(i),
                Frequency.Weekly => firstDue.AddDays(7 * i),
                _ => firstDue.AddDays(i),
            };
            var amount = i == count - 1 ? total - share * (count - 1) : share;
            list.Add(new Installment(i + 1, due, amount));
        }
        return list;
    }

    /// <summary>Returns why <paramref name="installments"/> cannot be a plan's schedule, or null when it can.</summary>
    public static string? Problem(IReadOnlyList<Installment> installments, long financed)
    {
        if (installments.Count == 0) return "A plan needs at least one installment.";
        if (installments.Count > MaxInstallments) return $"A plan has at most {MaxInstallments} installments.";
        long sum = 0;
        for (var i = 0; i < installments.Count; i++)
        {
            var it = installments[i];
            if (it.Amount <= 0) return $"Installment {i + 1} must have a positive amount.";
            if (it.DueDate < EarliestDueDate || it.DueDate > LatestDueDate)
                return $"Installment {i + 1} falls due on {it.DueDate:yyyy-MM-dd}; due dates run from {EarliestDueDate:yyyy-MM-dd} to {LatestDueDate:yyyy-MM-dd}.";
            if (i > 0 && it.DueDate <= installments[i - 1].DueDate)
                return $"Installment {i + 1} must fall due after installment {i}.";
            sum += it.Amount;
        }
        return sum == financed
            ? null
            : $"Installments add up to {sum} but price minus down payment is {financed}.";
    }
}
