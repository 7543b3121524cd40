namespace Lien.Server.Notices;

/// <summary>What a provider said of one message: it took it, it refused it for good, or it could not take it now.</summary>
internal enum SmsSendOutcome { Accepted, Rejected, RetryLater }

internal sealed record SmsSendResult(SmsSendOutcome Outcome, string? MessageId = null, string? Status = null, int? StatusCode = null,
    string? Cost = null, string? Error = null);

/// <summary>An SMS provider: another provider is one class implementing this.</summary>
internal interface ISmsSender
{
    /// <summary>The provider's name, as stored with each message it took.</summary>
    string Name { get; }

    /// <summary>False when the deployment configured no account: no SMS is queued at all.</summary>
    bool Configured { get; }

    Task<SmsSendResult> SendAsync(string to, string text, CancellationToken ct);
}
