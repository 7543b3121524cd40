namespace Lien.Server.Push;

internal enum PushOutcome { Sent, TokenInvalid, RetryLater, NotConfigured }

internal sealed record PushResult(PushOutcome Outcome, TimeSpan? RetryAfter = null, string? Error = null);

/// <summary>Sends a data message "check in now" to a device's registration token.</summary>
internal interface IPushSender
{
    Task<PushResult> SendCheckInAsync(string registrationToken, long seq, CancellationToken ct);
}
