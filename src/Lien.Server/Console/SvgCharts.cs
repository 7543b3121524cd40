using System.Globalization;
using System.Text;
using Lien.Server.Api;
using Microsoft.AspNetCore.Html;

namespace Lien.Server.Console;

/// <summary>
/// Charts drawn on the server as SVG: no script, nothing to download, styled only by the stylesheet's classes (the CSP
/// allows no inline style). Each chart is an image with a title for screen readers; the page shows its figures in a table too.
/// </summary>
internal static class SvgCharts
{
    private const int Width = 600, Height = 220, Left = 56, Bottom = 40, Top = 12, Right = 12;

    /// <summary>Vertical bars, one per label, coloured by <c>bar-N</c> (N = index mod 4 when <paramref name="colourEach"/>).</summary>
    public static IHtmlContent Bars(string id, string title, IReadOnlyList<(string Label, double Value)> bars, Func<double, string> format, bool colourEach = false)
    {
        var max = Math.Max(1, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var slot = plotW / (double)Math.Max(1, bars.Count);
        var svg = Open(id, title);
        Axes(svg, format(max));
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            var h = value / max * plotH;
            var x = Left + i * slot + slot * 0.15;
            svg.Append(Inv($"<rect class=\"bar-{(colourEach ? i % 4 : 0)}\" x=\"{x:0.#}\" y=\"{Top + plotH - h:0.#}\" width=\"{slot * 0.7:0.#}\" height=\"{h:0.#}\"><title>"))
                .Append(HtmlPage.Encode($"{label}: {format(value)}")).Append("</title></rect>");
            if (bars.Count <= 14 || i % (bars.Count / 10 + 1) == 0)
                svg.Append(Inv($"<text x=\"{x + slot * 0.35:0.#}\" y=\"{Height - Bottom + 14}\" text-anchor=\"middle\">")).Append(HtmlPage.Encode(label)).Append("</text>");
        }
        return new HtmlString(svg.Append("</svg>").ToString());
    }

    /// <summary>Lines over shared labels, each series coloured by <c>line-N</c>, on a 0..max axis.</summary>
    public static IHtmlContent Lines(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, Func<double, string> format)
    {
        var max = Math.Max(0.0001, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var step = labels.Count > 1 ? plotW / (double)(labels.Count - 1) : 0;
        var svg = Open(id, title);
        Axes(svg, format(max));
        for (var s = 0; s < series.Count; s++)
        {
            var points = string.Join(" ", series[s].Values.Select((v, i) => Inv($"{Left + i * step:0.#},{Top + plotH - v / max * plotH:0.#}")));
            svg.Append(Inv($"<polyline class=\"line-{s % 2}\" points=\"{points}\"><title>")).Append(HtmlPage.Encode(series[s].Name)).Append("</title></polyline>");
            svg.Append(Inv($"<text x=\"{Width - Right - 4}\" y=\"{Top + 12 + s * 14}\" text-anchor=\"end\">")).Append(HtmlPage.Encode(series[s].Name)).Append("</text>");
        }
        for (var i = 0; i < labels.Count; i += Math.Max(1, labels.Count / 6))
            svg.Append(Inv($"<text x=\"{Left + i * step:0.#}\" y=\"{Height - Bottom + 14}\" text-anchor=\"middle\">")).Append(HtmlPage.Encode(labels[i])).Append("</text>");
        return new HtmlString(svg.Append("</svg>").ToString());
    }

    private static StringBuilder Open(string id, string title) => new StringBuilder()
        .Append(Inv($"<svg class=\"chart\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {Width} {Height}\" xmlns=\"http://www.w3.org/2000/svg\">"))
        .Append(Inv($"<title id=\"{id}-title\">")).Append(HtmlPage.Encode(title)).Append("</title>");

    private static void Axes(StringBuilder svg, string top) => svg
        .Append(Inv($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\"/>"))
        .Append(Inv($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\"/>"))
        .Append(Inv($"<text x=\"{Left - 4}\" y=\"{Top + 10}\" text-anchor=\"end\">")).Append(HtmlPage.Encode(top)).Append("</text>")
        .Append(Inv($"<text x=\"{Left - 4}\" y=\"{Height - Bottom}\" text-anchor=\"end\">0</text>"));

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
