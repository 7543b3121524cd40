using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Lien.Protocol;
using Microsoft.AspNetCore.Http.Metadata;

namespace Lien.Server.AgentApi;

/// <summary>
/// A <see cref="CheckInResponse"/> written straight to the response: the same JSON the serializer would write, without
/// building the record, with the key-set statement (the same for a lender's whole fleet) rendered once, and signed
/// (<c>Lien-Signature</c>, HS256) under the device's answer key over the exact bytes sent.
/// </summary>
internal sealed class CheckInAnswer(long seq, string lease, byte[] keySet, DateTimeOffset nextCheckInAt, DateTimeOffset serverTime,
    string? nonce, AnswerKeys answerKeys, Guid deviceId, int epoch, string? deviceToken = null)
    : IResult, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText Lease = JsonEncodedText.Encode("lease");
    private static readonly JsonEncodedText KeySetName = JsonEncodedText.Encode("keySet");
    private static readonly JsonEncodedText NextCheckInAt = JsonEncodedText.Encode("nextCheckInAt");
    private static readonly JsonEncodedText ServerTime = JsonEncodedText.Encode("serverTime");
    private static readonly JsonEncodedText DeviceToken = JsonEncodedText.Encode("deviceToken");
    private static readonly JsonEncodedText Nonce = JsonEncodedText.Encode("nonce");

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        // Written whole before the first byte goes out, so the answer carries a Content-Length and the buffers,
        // copied into the response synchronously, are free for this thread's next request.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var w = t_writer ??= new Utf8JsonWriter(buffer);
        w.Reset(buffer);
        w.WriteStartObject();
        w.WriteNumber(Seq, seq);
        w.WriteString(Lease, lease);
        w.WritePropertyName(KeySetName);
        w.WriteRawValue(keySet, skipInputValidation: true);
        w.WriteString(NextCheckInAt, nextCheckInAt);
        w.WriteString(ServerTime, serverTime);
        w.WriteString(Nonce, nonce);
        if (deviceToken is not null) w.WriteString(DeviceToken, deviceToken);
        w.WriteEndObject();
        w.Flush();

        var response = httpContext.Response;
        Span<byte> key = stackalloc byte[AnswerSignature.AnswerKeyBytes];
        answerKeys.Derive(deviceId, epoch, key);
        response.Headers[AnswerSignature.HeaderName] = AnswerSignature.SignHs256(buffer.WrittenSpan, key);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        var flush = response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(CheckInResponse), ["application/json"]));

    // Rendered key sets, keyed by their stored JSON: content-addressed, so a rotation can never be served stale.
    private static readonly ConcurrentDictionary<string, byte[]> Rendered = new();

    /// <summary>A lender's key-set statement (stored as JSON) as the bytes a <see cref="CheckInResponse"/> carries.</summary>
    public static byte[] KeySet(string json) =>
        Rendered.Count > 10_000 ? Encoding.UTF8.GetBytes(json) : Rendered.GetOrAdd(json, Encoding.UTF8.GetBytes);
}
