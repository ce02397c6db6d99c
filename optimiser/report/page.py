"""The plan as one self-contained HTML page for people (``optimiser report``): a map per
function, the headline figures, every partnership, today's arrangements against the plan, the
risk, the shares, a section per council and the caveats in words.

Everything is in the one file (style, script, maps as SVG): it opens offline, from an email
attachment, and asks the network for nothing. Every name is escaped on the way in.
"""

from __future__ import annotations

import json
from html import escape

from ..analysis.summary import function_figures
from . import page_sections as sections
from .assets import CSS, JS
from .geo import council_shapes
from .labels import Labels
from .svgmap import ALONE, MapCouncil, Projection, colours, function_map, legend, shape_defs
from .text import estimated_line, idle_functions, money, status_sentence

POUND = "£"


def cash(value: float | None) -> str:
    return money(value, POUND)


def page_title(plan, labels: Labels, areas: str) -> str:
    return f"Partnership plan: {areas or labels.title}"


def _map_layers(plan, labels: Labels) -> dict[str, list[tuple[str, list[str]]]]:
    """Per function, its maps as (title, council codes): one map, or two where a county and its
    own districts both take part (their territories overlap)."""
    eligible: dict[str, list[str]] = {}
    for c in plan.councils:
        eligible.setdefault(c.function, []).append(c.code)
    layers = {}
    for function, codes in eligible.items():
        taking = set(codes)
        upper = [c for c in codes if any(labels.counties.get(d) == c for d in taking)]
        lower = [c for c in codes if c not in upper]
        if upper and lower:
            layers[function] = [("district, unitary and borough councils", lower), ("county councils", upper)]
        else:
            layers[function] = [(labels.function(function), lower or upper)]
    return layers


def maps_section(plan, labels: Labels, instance, shapes: dict, projection: Projection, counties: dict) -> str:
    if not shapes:
        return ('<section id="maps"><h2>Maps</h2><p class="note">This instance ships no boundaries '
                '(instance.toml [tables].boundaries), so there are no maps.</p></section>')
    points = {code: projection.point(lon, lat) for code, lat, lon in zip(instance.councils["code"], instance.councils["lat"],
                                                                          instance.councils["lon"])}
    by_id = {p.id: p for p in plan.partnerships}
    rows = {(c.code, c.function): c for c in plan.councils}
    base = [c for c in shapes if c not in counties]
    parts = ['<section id="maps"><h2>Maps</h2><p class="note">One map a function. Each colour is a partnership; grey councils '
             'stay on their own; a ring marks the council that hosts. Hover over a council for its partnership, click it for '
             'the figures.</p>']
    for function, layers in _map_layers(plan, labels).items():
        ids = [p.id for p in plan.partnerships if p.function == function]
        colour = colours(ids, _touching(plan, function, instance.graph))
        svgs = []
        for n, (title, codes) in enumerate(layers):
            drawn = []
            for code in codes:
                if code not in shapes:
                    continue
                row = rows[(code, function)]
                p = by_id.get(row.partnership)
                if p is None:
                    tip = f"{labels.council(code)}: on its own for {labels.function(function)}"
                else:
                    others = ", ".join(labels.council(m) + (" (host)" if m == p.host else "") for m in p.members if m != code)
                    tip = f"{labels.council(code)}: {p.id} with {others}; its NPV share {cash(row.npv_share)}"
                drawn.append(MapCouncil(code, labels.council(code), row.partnership, tip, p is not None and p.host == code))
            drawn_codes = {c.code for c in drawn}
            background = [c for c in base if c not in drawn_codes] if n == 0 else []
            svgs.append(function_map(f"{function}-{n}", title, drawn, background, colour, projection, points,
                                     "map upper" if n else "map"))
        key = [(colour[p.id], f"{p.id}: {len(p.members)} councils, host {labels.council(p.host)}, NPV {cash(p.npv)}")
               for p in plan.partnerships if p.function == function] + [(ALONE, "on its own")]
        captions = (f"Left, {escape(layers[0][0])}; right, {escape(layers[1][0])}, which share ground with their districts."
                    if len(layers) > 1 else "")
        parts.append(f'<figure class="fmap" id="fn-{escape(function)}" data-function="{escape(function)}">'
                     f'<h3>{escape(labels.function(function))}</h3>'
                     + (f'<p class="note">{captions}</p>' if captions else "")
                     + '<div class="maps">' + "".join(svgs)
                     + f'<div class="side">{legend(key)}<div class="info">Click a council on the map for its figures.</div></div>'
                     + "</div></figure>")
    parts.append("</section>")
    return "".join(parts)


def _touching(plan, function: str, graph) -> dict[str, set[str]]:
    """Which partnerships of a function border each other (a member of one next to a member of the other)."""
    of = {c.code: c.partnership for c in plan.councils if c.function == function and c.partnership}
    touching: dict[str, set[str]] = {}
    for a, b in graph.edges:
        p, q = of.get(a), of.get(b)
        if p and q and p != q:
            touching.setdefault(p, set()).add(q)
            touching.setdefault(q, set()).add(p)
    return touching


def _counties(labels: Labels, shapes: dict) -> set[str]:
    """Councils whose shape is their districts' merged: kept off the maps' faint background."""
    return {county for county in set(labels.counties.values()) if county and county in shapes}


def headline_section(plan, labels: Labels, instance, horizon: int) -> str:
    t = plan.totals
    share = t.annual_saving / t.baseline if t.baseline else 0.0
    cards = [("partnerships", f"{len(plan.partnerships)}"), ("net present value", cash(t.npv)),
             ("yearly saving", f"{cash(t.annual_saving)} ({share:.1%} of spend)"), ("one-off cost", cash(t.one_off_cost))]
    if t.expected_npv is not None and abs(t.expected_npv - t.npv) > 0.5:
        cards.append(("expected NPV if members may leave", cash(t.expected_npv)))
    rows = []
    for f in function_figures(plan):
        rows.append([labels.function(f.function), f.partnerships, f.councils, cash(f.annual_saving), f"{f.saving_share:.1%}",
                     cash(f.npv)])
    idle = "".join(f"<li>{escape(labels.function(f))}: {escape(why)}</li>" for f, why in idle_functions(plan, instance))
    councils = len({c.code for c in plan.councils})
    joined = len({c.code for c in plan.councils if c.partnership})
    summary = (f"{len(plan.partnerships)} partnerships among {joined} of the {councils} councils would save "
               f"{cash(t.annual_saving)} a year for {cash(t.one_off_cost)} spent once to set them up: "
               f"{cash(t.npv)} over {horizon} years, in today's money." if plan.partnerships else
               "The plan forms no partnership (see below for why).")
    return ('<section id="headline"><h2>Headline</h2>' f"<p>{escape(summary)}</p>" '<div class="headline">'
            + "".join(f"<div>{escape(k)}<b>{escape(v)}</b></div>" for k, v in cards) + "</div>"
            + sections.table(["function", "partnerships", "councils in one", "yearly saving", "of spend", "NPV"], rows, numeric={1, 2, 3, 4, 5})
            + (f"<p>Functions with no partnership:</p><ul>{idle}</ul>" if idle else "") + "</section>")


def partnerships_section(plan, labels: Labels) -> str:
    rows = [[p.id, labels.function(p.function), labels.councils(p.members), labels.council(p.host), p.depth,
             labels.platform(p.platform), cash(p.annual_saving), cash(p.one_off_cost), cash(p.npv),
             "-" if p.payback_years is None else f"{p.payback_years:.1f} years"] for p in plan.partnerships]
    return ('<section id="partnerships"><h2>Every partnership</h2>'
            + sections.table(["id", "function", "members", "host", "depth", "platform", "yearly saving", "one-off cost", "NPV",
                              "payback"], rows, numeric={6, 7, 8, 9}) + "</section>")


def page_data(plan, labels: Labels) -> str:
    """What the script shows on a click, as JSON safe inside a <script> element."""
    councils: dict[str, dict] = {}
    for c in plan.councils:
        entry = councils.setdefault(c.code, {"name": labels.council(c.code), "functions": {}})
        entry["functions"][c.function] = {"p": c.partnership, "npv": cash(c.npv_share), "annual": cash(c.annual_saving_share),
                                          "one_off": cash(c.one_off_share)}
    partnerships = {p.id: {"id": p.id, "members": labels.councils(p.members), "host": labels.council(p.host), "depth": p.depth,
                           "platform": labels.platform(p.platform), "npv": cash(p.npv), "annual": cash(p.annual_saving),
                           "one_off": cash(p.one_off_cost)} for p in plan.partnerships}
    text = json.dumps({"councils": councils, "partnerships": partnerships}, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def plan_report(plan, instance, model, *, areas: str = "", today=None, boundaries: dict | None = None) -> str:
    """The report page of ``plan`` (read with ``instance`` and ``model`` for names, shapes and
    the model's view); ``today`` is the evaluation of the instance's existing partnerships."""
    labels = Labels.of(instance, model)
    codes = list(dict.fromkeys(c.code for c in plan.councils))
    shapes = council_shapes(instance, codes, boundaries)
    counties = {county: [d for d, c in labels.counties.items() if c == county] for county in _counties(labels, shapes)}
    base_shapes = {c: s for c, s in shapes.items() if c not in counties}
    projection = Projection.around(base_shapes or shapes)
    title = page_title(plan, labels, areas)
    nav = sections.navigation(plan, labels, codes)
    body = [
        f"<header><h1>{escape(title)}</h1><p class=\"lead\">{escape(labels.title)} ({escape(plan.instance)}), savings model "
        f"{escape(model.title)} ({escape(plan.model)}). The plan is {escape(status_sentence(plan.solver))}.</p>",
        f"<p class=\"note\">Baselines: {escape(estimated_line(plan).strip().removeprefix('baselines: '))}.</p></header>",
        nav,
        headline_section(plan, labels, instance, model.horizon_years),
        maps_section(plan, labels, instance, shapes, projection, counties),
        partnerships_section(plan, labels),
        sections.today_section(plan, labels, instance, today),
        sections.risk_section(plan, labels),
        sections.shares_section(plan, labels),
        sections.finance_section(plan, labels),
        sections.councils_section(plan, labels),
        sections.caveats_section(plan, labels, model),
        f"<footer>{escape(labels.attribution_text())}</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            + shape_defs(shapes, projection) + "".join(body)
            + f'<script type="application/json" id="plan-data">{page_data(plan, labels)}</script>'
            + f"<script>{JS}</script></body></html>\n")


def today_evaluation(plan, instance, model):
    """The instance's existing partnerships among the plan's councils and functions, each valued
    under ``model`` (None when there are none)."""
    from ..analysis.evaluate import evaluate
    from ..problem import RunOptions

    codes = {c.code for c in plan.councils}
    functions = list(dict.fromkeys(c.function for c in plan.councils))
    groups = [(g.id, g.function, list(g.members)) for g in instance.partnerships
              if g.function in functions and codes.intersection(g.members)]
    if not groups:
        return None
    return evaluate(instance, groups, model, RunOptions(functions=tuple(sorted({g[1] for g in groups}))))
