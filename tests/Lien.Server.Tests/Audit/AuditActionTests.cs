using Lien.Protocol;
using Lien.Server.Audit;

namespace Lien.Server.Tests.Audit;

/// <summary>The catalogue of audit actions is a contract (webhook event types will be these names).</summary>
public sealed class AuditActionTests
{
    [Fact]
    public void All_EveryStaticAction_ListedOnceWithADistinctDottedName()
    {
        var declared = typeof(AuditAction).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(AuditAction)).Select(f => (AuditAction)f.GetValue(null)!).ToList();
        Assert.Equal(declared.Count, AuditAction.All.Count);
        Assert.All(declared, a => Assert.Contains(a, AuditAction.All));
        Assert.Equal(AuditAction.All.Count, AuditAction.All.Select(a => a.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(AuditAction.All, a => Assert.Matches("^[a-z-]+\\.[a-z-]+$", a.Name));
    }

    [Theory]
    [InlineData(LeaseMode.Unlocked, "device.unlocked")]
    [InlineData(LeaseMode.Locked, "device.locked")]
    [InlineData(LeaseMode.Released, "device.released")]
    public void DeviceEntered_EachMode_ItsAction(LeaseMode mode, string expected) =>
        Assert.Equal(expected, AuditAction.DeviceEntered(mode).Name);
}
