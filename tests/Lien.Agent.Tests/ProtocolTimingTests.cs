using System.Text.RegularExpressions;
using Lien.Server.AgentApi;

namespace Lien.Agent.Tests;

/// <summary>docs/PROTOCOL.md states the stream's heartbeat and the agent's idle timeout as the code has them, everywhere it states them.</summary>
public sealed partial class ProtocolTimingTests
{
    private static string Protocol()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lien.slnx")))
                return File.ReadAllText(Path.Combine(dir.FullName, "docs", "PROTOCOL.md"));
        throw new DirectoryNotFoundException($"No Lien.slnx above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void Protocol_HeartbeatAndIdleTimeout_AgreeWithTheCode()
    {
        var text = Regex.Replace(Protocol(), @"\s+", " ");
        var heartbeats = Heartbeat().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var silences = Silence().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(heartbeats.Count >= 2, "§4 and §8 both state the heartbeat");
        Assert.True(silences.Count >= 2, "§4 and §8 both state the idle timeout");
        Assert.All(heartbeats, s => Assert.Equal(new StreamOptions().Heartbeat, TimeSpan.FromSeconds(s)));
        Assert.All(silences, s => Assert.Equal(AgentRuntime.StreamIdleTimeout, TimeSpan.FromSeconds(s)));
        // The idle timeout outlasts two heartbeats at their latest (+20 % jitter), so one lost ping drops nothing.
        Assert.True(AgentRuntime.StreamIdleTimeout > new StreamOptions().Heartbeat * 1.2 * 2);
    }

    [GeneratedRegex(@"every (\d+) s of silence")]
    private static partial Regex Heartbeat();

    [GeneratedRegex(@"nothing for (\d+) s")]
    private static partial Regex Silence();
}
