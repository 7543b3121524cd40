namespace Lien.Server.Console;

/// <summary>The console's one stylesheet, served as a file (<c>/console/console.css</c>): the CSP allows no inline style.</summary>
internal static class ConsoleStyle
{
    public const string Css = """
        :root{--ink:#111;--muted:#4a4a4a;--line:#c8c8c8;--accent:#0b4f8a;--bad:#8a1c1c;--good:#1d6b2f;--warn:#7a4b00}
        *{box-sizing:border-box}
        body{font-family:system-ui,sans-serif;margin:0;color:var(--ink);line-height:1.45;background:#fafafa}
        header{background:#0b2540;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;align-items:center}
        header a{color:#fff}header .who{margin-left:auto;font-size:.9rem}
        nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:0;padding:0}
        nav a[aria-current=page]{font-weight:700;text-decoration:underline}
        main{max-width:72rem;margin:0 auto;padding:1rem}
        h1{font-size:1.5rem;margin:.4rem 0 1rem}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        form.inline{display:inline}label{display:block;font-weight:600;margin:.5rem 0 .15rem}
        input,select,textarea,button{font:inherit;padding:.3rem .5rem}textarea{width:100%;min-height:3.5rem}
        button{background:var(--accent);color:#fff;border:0;border-radius:3px;cursor:pointer}button.danger{background:var(--bad)}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
        .card{background:#fff;border:1px solid var(--line);border-radius:4px;padding:.8rem}
        .figure{font-size:1.6rem;font-weight:700}
        .problem{color:var(--bad)}.ok{color:var(--good)}.muted{color:var(--muted)}
        .state-Locked{color:var(--bad);font-weight:700}.state-Released{color:var(--good)}.state-Notice{color:var(--warn);font-weight:600}
        .sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
        svg.chart{width:100%;height:auto;max-width:40rem}svg.chart text{font-size:11px;fill:#222}
        .bar-0{fill:#0b4f8a}.bar-1{fill:#b36b00}.bar-2{fill:#8a1c1c}.bar-3{fill:#1d6b2f}.line-0{stroke:#0b4f8a;fill:none;stroke-width:2}.line-1{stroke:#8a1c1c;fill:none;stroke-width:2}
        .axis{stroke:#666;stroke-width:1}
        .lockscreen{max-width:22rem;border:10px solid #222;border-radius:18px;padding:1rem;background:#fff}
        .lockscreen.locked{background:#2b0d0d;color:#fff}.lockscreen .actions{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.6rem}
        .lockscreen .actions span{border:1px solid currentColor;border-radius:3px;padding:.1rem .4rem;font-size:.85rem}
        .code{font-size:2.6rem;font-family:ui-monospace,monospace;letter-spacing:.08em;font-weight:700}
        .timeline{list-style:none;padding:0}.timeline li{border-left:3px solid var(--line);padding:.2rem .7rem;margin-bottom:.2rem;background:#fff}
        .timeline .kind{font-weight:600}.pager{display:flex;gap:1rem;margin:.6rem 0}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{font-weight:600}
        """;
}
