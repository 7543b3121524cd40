namespace Lien.Protocol.Tests;

public sealed class SignedAtTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_772_366_400);

    [Theory]
    [InlineData(0, true)]
    [InlineData(300, true)]
    [InlineData(-300, true)]
    [InlineData(301, false)]
    [InlineData(-301, false)]
    public void IsCurrent_WithinFiveMinutesEitherWay(long offset, bool current) =>
        Assert.Equal(current, SignedAt.IsCurrent(Now.ToUnixTimeSeconds() + offset, Now));

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue + 1_772_366_400)] // the value whose difference from now is long.MinValue
    public void IsCurrent_AnyLong_FalseNeverAnOverflow(long signedAt) => Assert.False(SignedAt.IsCurrent(signedAt, Now));
}
