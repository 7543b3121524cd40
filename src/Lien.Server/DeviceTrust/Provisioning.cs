using System.Text.Json;
using System.Text.Json.Nodes;
using Lien.Protocol;
using QRCoder;

namespace Lien.Server.DeviceTrust;

/// <summary>
/// What the provisioning QR code carries (<c>Lien:Provisioning:*</c>): Android's QR provisioning extras for the
/// agent app, when configured, and in the admin extras bundle Lien's own — the server address, the one-time
/// enrollment token and the lender's signing key thumbprint (RFC 7638), which the agent pins before it first talks
/// to the server.
/// </summary>
internal sealed class ProvisioningOptions
{
    /// <summary>The address phones reach the server at; by default the address the request came in on.</summary>
    public string? ServerUrl { get; set; }

    /// <summary><c>android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME</c>, e.g. <c>dev.lien.agent/.LienAdminReceiver</c>.</summary>
    public string? AdminComponent { get; set; }

    /// <summary><c>…PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION</c>: where the phone downloads the agent.</summary>
    public string? PackageDownloadUrl { get; set; }

    /// <summary><c>…PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM</c>: base64url SHA-256 of the agent's signing certificate.</summary>
    public string? PackageChecksum { get; set; }
}

internal static class Provisioning
{
    private const string Extra = "android.app.extra.";

    /// <summary>The QR code's JSON for <paramref name="token"/>.</summary>
    public static string Payload(ProvisioningOptions options, string serverUrl, Guid lenderId, string token, TrustKey? pinned)
    {
        var bundle = new JsonObject
        {
            ["dev.lien.SERVER"] = options.ServerUrl ?? serverUrl,
            ["dev.lien.LENDER_ID"] = lenderId.ToString(),
            ["dev.lien.ENROLLMENT_TOKEN"] = token,
        };
        if (pinned is not null) bundle["dev.lien.LENDER_KEY_THUMBPRINT"] = pinned.Thumbprint();
        var payload = new JsonObject();
        if (options.AdminComponent is { } component) payload[Extra + "PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME"] = component;
        if (options.PackageDownloadUrl is { } url) payload[Extra + "PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION"] = url;
        if (options.PackageChecksum is { } sum) payload[Extra + "PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM"] = sum;
        payload[Extra + "PROVISIONING_ADMIN_EXTRAS_BUNDLE"] = bundle;
        return payload.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>The payload as an SVG QR code (error correction M: survives a crease or a smudge on a printed slip).</summary>
    public static string Svg(string payload)
    {
        using var data = QRCodeGenerator.GenerateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4);
    }
}
