using System.Text.Json;
using Lien.Agent;
using Lien.Protocol;
using Lien.Server.Devices;
using Lien.Server.Lenders;

namespace Lien.Server.Console;

/// <summary>
/// What the borrower sees right now: the device's current signed lease, verified with the lender's published keys and
/// drawn by the reference agent's own <see cref="LockScreenView"/> at the server's now — the screen an agent holding
/// that lease shows (a code typed on the phone since is the phone's to know).
/// </summary>
internal static class BorrowerScreen
{
    public static LockScreenView? Of(Device device, Lender lender, DateTimeOffset now)
    {
        if (device.LeaseJws.Length == 0) return null;
        var keys = lender.TrustKeys();
        var verified = Jws.Verify(device.LeaseJws, kid => keys.FirstOrDefault(k => k.Kid == kid)?.ToECDsa(), LeaseClaims.MediaType);
        if (!verified.Valid || JsonSerializer.Deserialize<LeaseClaims>(verified.Payload, LeaseClaims.Json) is not { } claims) return null;
        var state = AgentState.New(new DeviceIdentity(device.Imeis, "")) with { Lease = new AppliedLease(device.LeaseJws, claims) };
        return LockScreenView.Of(state, now);
    }

    public static string Label(LockScreenAction a) => a switch
    {
        LockScreenAction.EmergencyCall => "Emergency call",
        LockScreenAction.EnterUnlockCode => "Enter unlock code",
        LockScreenAction.Help => "Contact/Help",
        _ => "Refresh",
    };
}
