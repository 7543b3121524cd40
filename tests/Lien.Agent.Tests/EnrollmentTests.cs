using Lien.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Lien.Agent.Tests;

/// <summary>What the agent sends to enroll, checked the way the server checks it (<see cref="EnrollmentProof.Verify"/>).</summary>
public sealed class EnrollmentTests
{
    [Fact]
    public async Task EnrollAsync_NotRegistered_SentItsImeisSignedWithAFreshKeyOverTheChallengeAtTheServersTime()
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
        // Signed with the server's time (an hour ahead of the phone's here), over the challenge and a nonce of its own.
        Assert.Equal(standIn.Challenge.ServerTime.ToUnixTimeSeconds(), sent.SignedAt);
        Assert.Equal(standIn.Challenge.Challenge, sent.Challenge);
        Assert.Equal(16, System.Buffers.Text.Base64Url.DecodeFromChars(sent.Nonce).Length);
        Assert.Null(sent.Attestation);
        Assert.Null(sent.EnrollmentToken);
        var proof = EnrollmentProof.Verify(sent);
        Assert.True(proof.Verified, proof.Problem);
        // A key made for this enrollment: the refused one is not kept.
        using var held = DeviceKeys.Open(agent.State.Identity);
        Assert.NotEqual(held.ExportSubjectPublicKeyInfo(), proof.PublicKey);
    }
}
