using CsCheck;
using Lien.Protocol.Lending;

namespace Lien.Protocol.Tests.Lending;

public class AllocationTests
{
    private static readonly Installment[] Three =
    [
        new(1, new DateOnly(2026, 1, 1), 100),
        new(2, new DateOnly(2026, 2, 1), 100),
        new(3, new DateOnly(2026, 3, 1), 100),
    ];

    [Theory]
    [InlineData(0, new long[] { 0, 0, 0 }, 0)]
    [InlineData(50, new long[] { 50, 0, 0 }, 0)]
    [InlineData(150, new long[] { 100, 50, 0 }, 0)]   // overpaying one installment credits the next
    [InlineData(300, new long[] { 100, 100, 100 }, 0)]
    [InlineData(340, new long[] { 100, 100, 100 }, 40)] // beyond the plan: credit
    public void Of_PaidTotal_OldestInstallmentFirst(long paid, long[] expected, long credit)
    {
        var a = Allocation.Of(Three, paid);
        Assert.Equal(expected, a.Installments.Select(i => i.Paid));
        Assert.Equal(credit, a.Credit);
    }

    [Fact]
    public void Of_RandomSchedulesAndPayments_MoneyIsConserved()
    {
        var gen = from amounts in Gen.Long[1, 1_000_000].Array[1, 40]
                  from payments in Gen.Long[1, 2_000_000].Array[0, 30]
                  select (amounts, payments);
        gen.Sample(t =>
        {
            var schedule = t.amounts.Select((x, i) => new Installment(i + 1, new DateOnly(2026, 1, 1).AddDays(7 * i), x)).ToList();
            var paid = t.payments.Sum();
            var a = Allocation.Of(schedule, paid);
            // allocated + credit = paid; nothing allocated beyond an installment; oldest filled first.
            return a.Allocated + a.Credit == paid
                   && a.Installments.All(i => i.Paid >= 0 && i.Paid <= i.Installment.Amount)
                   && a.Installments.Zip(a.Installments.Skip(1)).All(p => p.Second.Paid == 0 || p.First.Outstanding == 0)
                   && (a.Credit == 0 || a.Outstanding == 0);
        });
    }
}
