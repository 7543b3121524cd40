using System.Reflection;
using System.Text.Json;
using Lien.Protocol;
using Lien.Server.Api;
using Lien.Server.Lenders;
using Microsoft.AspNetCore.Http.Metadata;

namespace Lien.Server.AgentApi;

/// <summary>
/// An enrollment answer as sent: the serialized body, and its detached ES256 signature by the lender's active key in
/// <c>Lien-Signature</c> over exactly those bytes (docs/PROTOCOL.md §1).
/// </summary>
internal sealed class SignedAnswer(byte[] body, string signature) : IResult, IEndpointMetadataProvider
{
    /// <summary>Serializes <paramref name="answer"/> and signs it with <paramref name="key"/>.</summary>
    public static SignedAnswer ByLender(EnrollResponse answer, LenderKey key, SigningKeys keys)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(answer, Json.Options);
        var ecdsa = keys.Open(key);
        lock (ecdsa) return new SignedAnswer(body, AnswerSignature.SignEs256(body, ecdsa, key.Kid));
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        response.Headers[AnswerSignature.HeaderName] = signature;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(EnrollResponse), ["application/json"]));
}
