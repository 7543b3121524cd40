using System.Text;
using System.Text.Encodings.Web;

namespace Lien.Server.Api;

/// <summary>
/// The public pages' shell: a plain server-rendered HTML document (no script), readable on a phone and printable.
/// Every value put in a page goes through <see cref="Encode"/>.
/// </summary>
internal static class HtmlPage
{
    private const string Style = """
        body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}
        h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}
        .financed{color:#8a1c1c}.released{color:#1d6b2f}.unknown{color:#444}.problem{color:#8a1c1c}
        code{word-break:break-all;font-size:.8rem}input{font-size:1rem;padding:.3rem}button{font-size:1rem;padding:.3rem .8rem}
        .due{font-size:1.6rem;font-weight:700;margin:.2rem 0}.code{font-size:1.6rem;font-weight:700;letter-spacing:.1rem}
        table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .4rem;border-bottom:1px solid #ccc}
        label{display:block;margin-top:.5rem}section{margin:1.2rem 0}header img{max-height:3rem;max-width:10rem}
        @media print{form,.noprint{display:none}body{margin:0}}
        """;

    /// <summary>The pages' one style element by its hash, for a Content-Security-Policy that allows no other inline style.</summary>
    public static readonly string StyleHash = "'sha256-" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Style))) + "'";

    public static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? "");

    /// <summary>A whole page: <paramref name="title"/> (text) over <paramref name="bodyHtml"/> (already encoded), with <paramref name="status"/>.</summary>
    public static IResult Render(string title, string bodyHtml, int status = StatusCodes.Status200OK, string language = "en", string headHtml = "")
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"").Append(Encode(language)).Append("\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append(headHtml)
            .Append("<title>").Append(Encode(title)).Append(" · Lien</title><style>").Append(Style).Append("</style></head><body><main><h1>")
            .Append(Encode(title)).Append("</h1>").Append(bodyHtml).Append("</main></body></html>")
            .ToString();
        return TypedResults.Text(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
