using System.Globalization;
using System.Text;

namespace Lien.Server.Plans;

/// <summary>
/// A plan's schedule as one short text kept on the plan's row (<see cref="Plan.ScheduleRuns"/>), so the paths that read a
/// plan to apply a payment or review it get its schedule with the row: no query per installment, no cache to outgrow.
/// A schedule is written once, with its plan, and never changed; the rows in <c>PlanInstallments</c> stay the record that
/// reports and pages read. The text is runs separated by <c>;</c>, each
/// <c>first number,first due date (yyyy-MM-dd),count,amount,step</c> where the step is <c>Nd</c> (N days) or <c>Nm</c>
/// (N months, <see cref="DateOnly.AddMonths"/> from the run's first date, so 31 Jan, 28 Feb, 31 Mar is one run):
/// 365 daily installments with a remainder on the last are <c>1,2026-12-02,364,5000,1d;365,2027-12-01,1,5012,0d</c>.
/// </summary>
internal static class ScheduleRuns
{
    /// <summary>The shortest text for <paramref name="schedule"/> (installments in number order, numbers consecutive).</summary>
    public static string Encode(IReadOnlyList<Installment> schedule)
    {
        var text = new StringBuilder(32);
        var i = 0;
        while (i < schedule.Count)
        {
            var first = schedule[i];
            var count = 1;
            var step = (Days: 0, Months: 0);
            if (i + 1 < schedule.Count && schedule[i + 1].Amount == first.Amount && schedule[i + 1].Number == first.Number + 1)
            {
                var next = schedule[i + 1].DueDate;
                // Months when the next date is whole months on (the generator's monthly dates), else days.
                var months = (next.Year - first.DueDate.Year) * 12 + next.Month - first.DueDate.Month;
                step = months > 0 && first.DueDate.AddMonths(months) == next ? (0, months) : (next.DayNumber - first.DueDate.DayNumber, 0);
                // Runs go forward only (a plan's dates always do); anything else is written one installment a run.
                while (step.Days >= 0 && step != (0, 0) && i + count < schedule.Count && schedule[i + count] is var it && it.Amount == first.Amount
                       && it.Number == first.Number + count && it.DueDate == DueOf(first.DueDate, step, count))
                    count++;
            }
            if (count == 1) step = (0, 0);
            if (text.Length > 0) text.Append(';');
            text.Append(CultureInfo.InvariantCulture, $"{first.Number},{first.DueDate:yyyy-MM-dd},{count},{first.Amount},");
            if (step.Months > 0) text.Append(CultureInfo.InvariantCulture, $"{step.Months}m");
            else text.Append(CultureInfo.InvariantCulture, $"{step.Days}d");
            i += count;
        }
        return text.ToString();
    }

    /// <summary>The installments <paramref name="runs"/> stands for, in order; a text this class did not write throws.</summary>
    public static IReadOnlyList<Installment> Decode(string runs)
    {
        var list = new List<Installment>();
        foreach (var run in runs.Split(';'))
        {
            var f = run.Split(',');
            if (f.Length != 5 || f[4].Length < 2 || f[4][^1] is not ('d' or 'm')
                || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                || !DateOnly.TryParseExact(f[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due)
                || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1
                || list.Count + count > Schedule.MaxInstallments
                || !long.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
                || !int.TryParse(f[4].AsSpan(0, f[4].Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new FormatException($"Not a schedule run: '{run}'.");
            var step = f[4][^1] == 'm' ? (Days: 0, Months: n) : (Days: n, Months: 0);
            for (var k = 0; k < count; k++) list.Add(new Installment(number + k, DueOf(due, step, k), amount));
        }
        return list;
    }

    private static DateOnly DueOf(DateOnly first, (int Days, int Months) step, int k) =>
        step.Months > 0 ? first.AddMonths(step.Months * k) : first.AddDays(step.Days * k);
}
