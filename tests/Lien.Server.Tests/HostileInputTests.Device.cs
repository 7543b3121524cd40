namespace Lien.Server.Tests;

/// <summary>The corpus's device section: device tokens and headers in every broken shape, and the renewal's body.</summary>
public abstract partial class HostileInputTests
{
    private delegate void AddCase(string name, string method, string path, int status, string? body = null, string? names = null, string auth = "admin",
        string contentType = "application/json");

    private delegate void TwistCase(string endpoint, string what, string key, string? json, string? names = null);

    private static void DeviceCases(AddCase add, TwistCase twist)
    {
        // Tokens that are not a current token of this server: each is a 401 problem on every device endpoint, never a 500.
        foreach (var (what, header) in new[]
                 {
                     ("a zero device id and a one-character MAC", "Device 00000000000000000000000000000000.1.B"),
                     ("a zero device id, expiry and MAC", "Device 00000000000000000000000000000000.1.0.B"),
                     ("a real token missing its last character", "Device {token-1}"),
                     ("a real token with a character more", "Device {token}A"),
                     ("a token of the old three-part form", "Device {device:N}.1.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("a MAC of 22 characters that are not base64url", "Device {device:N}.1.1900000000.**********************"),
                     ("a padded MAC", "Device {device:N}.1.1900000000.AAAAAAAAAAAAAAAAAAAAAA=="),
                     ("an epoch beyond int", "Device {device:N}.99999999999.1900000000.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("a negative expiry", "Device {device:N}.1.-1900000000.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("an expiry beyond long", "Device {device:N}.1.99999999999999999999.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("five parts", "Device {device:N}.1.1900000000.1.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("only dots", "Device ..."), ("a device id in D form", "Device 0195f0a0-a0a0-a0a0-a0a0-a0a0a0a0a0a0.1.1900000000.AAAAAAAAAAAAAAAAAAAAAA"),
                     ("the Bearer scheme", "Bearer {token}"), ("a lowercase scheme", "device {token}"), ("the scheme alone", "Device"),
                     ("an empty token", "Device "), ("a token of 200 characters", "Device " + new string('A', 200)),
                     ("two tokens", "Device {token}, Device {token}"),
                 })
        {
            var auth = "header:" + header;
            add($"check-in with {what}", "POST", "/v1/device/checkin", 401, """{"appliedSeq":1}""", auth: auth);
            add($"ack with {what}", "POST", "/v1/device/ack", 401, """{"seq":1}""", auth: auth);
            add($"stream with {what}", "GET", "/v1/device/stream", 401, auth: auth);
        }

        // Bodies of the wrong type or size on the device endpoints.
        foreach (var (endpoint, what, key, json, names) in new (string, string, string, string?, string?)[]
                 {
                     ("check-in", "appliedSeq beyond long", "appliedSeq", "99999999999999999999", null), ("check-in", "appliedSeq null", "appliedSeq", "null", null),
                     ("check-in", "appliedSeq as an object", "appliedSeq", "{}", null), ("check-in", "pushToken as a number", "pushToken", "5", null),
                     ("check-in", "appliedSeq negative", "appliedSeq", "-1", "appliedSeq"),
                     ("ack", "seq beyond long", "seq", "1e30", null), ("ack", "seq as an array", "seq", "[1]", null),
                     ("ack", "seq zero", "seq", "0", "seq"), ("ack", "seq negative", "seq", "-5", "seq"),
                     ("renew", "deviceId not a UUID", "deviceId", "\"nope\"", null), ("renew", "deviceId as a number", "deviceId", "7", null),
                     ("renew", "signedAt as a string", "signedAt", "\"1772355600\"", null), ("renew", "signedAt 1e400", "signedAt", "1e400", null),
                     ("renew", "no signature", "signature", null, "signature"), ("renew", "signature as a number", "signature", "5", null),
                     ("renew", "a 5000-character signature", "signature", "\"" + new string('A', 5000) + "\"", "signature"),
                     ("renew", "NUL in the signature", "signature", "\"AA\\u0000A\"", "signature"),
                 })
            twist(endpoint, what, key, json, names);
        foreach (var (what, body) in new[] { ("truncated JSON", "{\"appliedSeq\":"), ("not JSON", "appliedSeq=1"), ("an array", "[]"),
                     ("a string", "\"x\""), ("nested 10000 deep", "{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}") })
            add($"check-in: {what}", "POST", "/v1/device/checkin", 400, body, auth: "device");
        add("check-in: a 31 MB body", "POST", "/v1/device/checkin", 413, "{\"x\":\"{31MB}\"}", auth: "device");
        add("check-in: plain text", "POST", "/v1/device/checkin", 415, "appliedSeq=1", auth: "device", contentType: "text/plain");
        add("stream: appliedSeq beyond long", "GET", "/v1/device/stream?appliedSeq=99999999999999999999", 400, names: "appliedSeq", auth: "device");
        add("stream: appliedSeq negative", "GET", "/v1/device/stream?appliedSeq=-1", 400, names: "appliedSeq", auth: "device");
        add("stream: two appliedSeqs", "GET", "/v1/device/stream?appliedSeq=1&appliedSeq=2", 400, auth: "device");
    }
}
