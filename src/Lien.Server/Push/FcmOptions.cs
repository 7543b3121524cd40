namespace Lien.Server.Push;

/// <summary>Firebase Cloud Messaging settings: a service account of the lender's Firebase project.</summary>
internal sealed class FcmOptions
{
    public string? ProjectId { get; set; }
    public string? ClientEmail { get; set; }

    /// <summary>The service account's RSA private key, PEM (the <c>private_key</c> of its JSON key file).</summary>
    public string? PrivateKeyPem { get; set; }

    public Uri Endpoint { get; set; } = new("https://fcm.googleapis.com");
    public Uri TokenUri { get; set; } = new("https://oauth2.googleapis.com/token");

    public bool Configured => !string.IsNullOrEmpty(ProjectId) && !string.IsNullOrEmpty(ClientEmail) && !string.IsNullOrEmpty(PrivateKeyPem);
}
