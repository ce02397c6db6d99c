"""The report page's style and its one small script, embedded in every report so that it
opens from an email attachment with no network. The script only adds convenience (click a
council for its figures, jump to a council); everything it shows is also in the page."""

CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d0d4d9; --accent: #1f5f99; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 0 20px 60px; }
h1 { font-size: 1.7em; margin: 28px 0 4px; } h2 { margin-top: 40px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { margin: 24px 0 6px; } p.lead { color: var(--muted); margin-top: 0; }
a { color: var(--accent); }
nav { background: #f4f6f8; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 16px 0; }
nav a { margin-right: 14px; } nav label { margin-left: 4px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; font-size: 0.93em; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f4f6f8; } td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.headline div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 170px; }
.headline b { display: block; font-size: 1.45em; }
figure.fmap { margin: 18px 0 28px; page-break-inside: avoid; }
.maps { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
svg.map { flex: 1 1 420px; width: 100%; max-width: 600px; height: auto; max-height: 72vh; border: 1px solid var(--line);
          background: #f8fbff; }
svg.map.upper { flex: 0 1 300px; max-width: 300px; }
svg.map use.bg { fill: #f0f0f0; stroke: #ffffff; stroke-width: 0.6; }
svg.map use.c { stroke: #ffffff; stroke-width: 0.8; cursor: pointer; }
svg.map use.c:hover, svg.map use.c.picked { stroke: #000000; stroke-width: 2; }
svg.map circle.host { fill: #ffffff; stroke: #000000; stroke-width: 2.5; pointer-events: none; }
.side { flex: 1 1 300px; min-width: 260px; }
.info { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: #fffdf3; min-height: 3em; }
ul.legend { list-style: none; padding: 0; margin: 8px 0; font-size: 0.9em; max-height: 50vh; overflow-y: auto; }
ul.legend li { margin: 2px 0; } .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  border: 1px solid #999; vertical-align: -1px; }
article.council { border-top: 1px solid var(--line); padding-top: 4px; }
/* a UK report holds hundreds of tables: the browser lays out those off screen only when reached */
article.council, #partnerships, #today, #risk, #shares { content-visibility: auto; contain-intrinsic-size: auto 600px; }
.note { color: var(--muted); font-size: 0.92em; }
.warn { background: #fff4e5; border-left: 4px solid #f0a030; padding: 6px 10px; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.9em; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { nav, .info { display: none; } svg.map { max-height: none; } }
"""

JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("plan-data").textContent);
  function line(parent, text, tag) {
    var el = document.createElement(tag || "div");
    el.textContent = text;
    parent.appendChild(el);
    return el;
  }
  function show(use) {
    var figure = use.closest("figure");
    var info = figure.querySelector(".info");
    var code = use.getAttribute("data-code");
    var council = data.councils[code];
    var fn = figure.getAttribute("data-function");
    figure.querySelectorAll("use.picked").forEach(function (u) { u.classList.remove("picked"); });
    use.classList.add("picked");
    info.textContent = "";
    line(info, council.name, "strong");
    var row = council.functions[fn];
    if (row && row.p) {
      var p = data.partnerships[row.p];
      line(info, p.id + ": " + p.members + " (host " + p.host + ")");
      line(info, p.depth + "; " + p.platform);
      line(info, "partnership: NPV " + p.npv + ", yearly saving " + p.annual + ", one-off " + p.one_off);
      line(info, council.name + "'s share: NPV " + row.npv + ", yearly saving " + row.annual + ", one-off " + row.one_off);
    } else {
      line(info, "on its own for this function");
    }
    var link = line(info, "everything for " + council.name, "a");
    link.href = "#council-" + code;
  }
  document.querySelectorAll("svg.map use.c").forEach(function (use) {
    use.addEventListener("click", function () { show(use); });
  });
  var find = document.getElementById("find");
  if (find) {
    find.addEventListener("change", function () {
      if (find.value) { location.hash = "council-" + find.value; }
    });
  }
})();
"""
