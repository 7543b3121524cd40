using Lien.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>What the agent sends to enroll, checked the way the server checks it (<see cref="EnrollmentProof.Verify"/>).</summary>
public sealed class EnrollmentTests
{
    [Fact]
    public async Task EnrollAsync_NotRegistered_SentItsImeisSignedWithItsOwnKey()
    {
        await using var standIn = await StreamStandIn.StartAsync();
        using var http = new HttpClient { BaseAddress = standIn.Address };
        string[] imeis = [LenderApi.NewImei(), LenderApi.NewImei()];
        var agent = new AgentRuntime(http, new MemoryAgentStore(), new FakeDeviceClock(TestLeases.T0, TimeSpan.FromSeconds(5)),
            new FakeTimeProvider(TestLeases.T0), new Random(1), imeis);
        await agent.StartAsync(TestContext.Current.CancellationToken);

        var result = await agent.EnrollAsync(TestContext.Current.CancellationToken);

        Assert.Equal(CallOutcome.NotRegistered, result.Outcome);
        Assert.Null(agent.State.Enrollment);
        var sent = Assert.Single(standIn.Enrollments);
        Assert.Equal(imeis, sent.Imeis);
        Assert.Equal(TestLeases.T0.ToUnixTimeSeconds(), sent.SignedAt);
        var proof = EnrollmentProof.Verify(sent);
        Assert.True(proof.Verified, proof.Problem);
        using var key = DeviceKeys.Open(agent.State.Identity);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), proof.PublicKey);
    }
}
