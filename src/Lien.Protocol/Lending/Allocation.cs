namespace Lien.Protocol.Lending;

/// <summary>What one installment has received.</summary>
public sealed record AllocatedInstallment(Installment Installment, long Paid)
{
    /// <summary>What is still owed on this installment.</summary>
    public long Outstanding => Installment.Amount - Paid;
}

/// <summary>The result of allocating a plan's net payments to its schedule.</summary>
public sealed record Allocation(IReadOnlyList<AllocatedInstallment> Installments, long Credit)
{
    /// <summary>Allocated to installments, excluding credit.</summary>
    public long Allocated => Installments.Sum(i => i.Paid);

    /// <summary>Still owed across the whole plan.</summary>
    public long Outstanding => Installments.Sum(i => i.Outstanding);

    /// <summary>
    /// Allocates <paramref name="paidTotal"/> (payments less reversals) oldest installment first;
    /// what is left after the last installment is credit.
    /// </summary>
    public static Allocation Of(IReadOnlyList<Installment> schedule, long paidTotal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(paidTotal);
        var left = paidTotal;
        var rows = new List<AllocatedInstallment>(schedule.Count);
        foreach (var it in schedule)
        {
            var take = Math.Min(left, it.Amount);
            left -= take;
            rows.Add(new AllocatedInstallment(it, take));
        }
        return new Allocation(rows, left);
    }
}
