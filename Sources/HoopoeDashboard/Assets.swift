import HTTPTypes
import Hummingbird

/// The dashboard's stylesheet, script and icon, compiled in: no CDN, nothing fetched, works offline. Served from
/// `/assets/` because the pages' Content-Security-Policy runs no inline script or style.
enum Assets {
    static func response(_ name: String) -> Response? {
        let (type, text): (String, String)
        switch name {
        case "app.css": (type, text) = ("text/css; charset=utf-8", css)
        case "app.js": (type, text) = ("text/javascript; charset=utf-8", script)
        case "icon.svg": (type, text) = ("image/svg+xml", icon)
        default: return nil
        }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: .init(string: text)))
    }

    static let css = """
        :root { --ink: #1d2330; --muted: #667085; --line: #e3e6ec; --accent: #c2571a; --ok: #2e7d4f; --bad: #b42318; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f7f8fa; }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
        .brand { font-weight: 700; color: var(--accent); font-size: 1.1rem; }
        nav { display: flex; gap: 1rem; flex-wrap: wrap; }
        nav a { color: var(--muted); text-decoration: none; }
        nav a.current, nav a:hover { color: var(--ink); font-weight: 600; }
        .badge { background: #fff4e5; color: #8a4b00; border: 1px solid #f3c98b; border-radius: 4px; padding: 0 .4rem; font-size: 12px; }
        form.search { margin-left: auto; display: flex; gap: .3rem; }
        main { padding: 1rem 1.5rem 3rem; max-width: 1300px; }
        h1 { font-size: 1.35rem; margin: .4rem 0 1rem; }
        h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #f0f2f5; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.error { color: var(--bad); max-width: 28rem; overflow-wrap: anywhere; }
        code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
        pre { background: #fff; border: 1px solid var(--line); padding: .8rem; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .8rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; }
        .card .value { font-size: 1.6rem; font-weight: 650; }
        .card .label { color: var(--muted); font-size: 12px; }
        .card.bad .value { color: var(--bad); }
        .notice { background: #eef8f1; border: 1px solid #b7e0c4; padding: .5rem .8rem; border-radius: 4px; }
        .warning { background: #fdf3e7; border: 1px solid #f0cf9f; padding: .5rem .8rem; border-radius: 4px; }
        .muted { color: var(--muted); }
        .filters { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; margin-bottom: .8rem; }
        .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        .actions { display: flex; gap: .4rem; margin: .6rem 0; flex-wrap: wrap; }
        form.inline { display: inline; }
        button { font: inherit; padding: .25rem .7rem; border: 1px solid #c9ced6; background: #fff; border-radius: 4px; cursor: pointer; }
        button.danger { color: var(--bad); border-color: #f0b8b3; }
        input, select { font: inherit; padding: .25rem .4rem; border: 1px solid #c9ced6; border-radius: 4px; }
        .pager { margin: .8rem 0; display: flex; gap: 1rem; }
        svg.chart text { font: 11px system-ui, sans-serif; fill: var(--ink); }
        dl.fields { display: grid; grid-template-columns: 10rem 1fr; gap: .3rem 1rem; background: #fff; border: 1px solid var(--line); padding: .8rem; }
        dl.fields dt { color: var(--muted); }
        dl.fields dd { margin: 0; overflow-wrap: anywhere; }
        td.actions { white-space: nowrap; }
        """

    /// "Select all" for the dead page's checkboxes, and a confirmation before an action marked `data-confirm`.
    static let script = """
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          var all = document.querySelector("input[data-select-all]");
          if (all) {
            all.addEventListener("change", function () {
              document.querySelectorAll("input[name=id][type=checkbox]").forEach(function (box) { box.checked = all.checked; });
            });
          }
          document.querySelectorAll("button[data-confirm]").forEach(function (button) {
            button.addEventListener("click", function (event) {
              if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
            });
          });
        });
        """

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#c2571a"/><path d="M5 4v8M11 4v8M5 8h6" stroke="#fff" stroke-width="2"/></svg>
        """
}
