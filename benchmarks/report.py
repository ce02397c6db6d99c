"""How big the HTML report and plan.geojson are, how long the page takes to build, and how long
Chromium takes to open and draw it, for a county and for the whole UK.

Each plan is solved once (or read with ``--plan``); the page is then built ``--repeats`` times
in this process and opened as many times in a fresh headless Chromium (tests/browser.py), from
navigation to the load event and two animation frames after it (the maps painted). Rows go to
``benchmarks/results/report/``.

    python benchmarks/report.py --repeats 3
    python benchmarks/report.py --area Kent --repeats 1
    python benchmarks/report.py --area UK --plan results/uk/plan.json   # a plan solved before
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
RESULTS = HERE / "results" / "report"
#: (label, instance, --area, time limit)
PLANS = [("Kent", "england-2023", "Kent", None), ("UK", "uk-2023", None, 60.0)]
FIELDS = ["plan", "councils", "partnerships", "functions", "report_mb", "geojson_mb", "maps", "map_elements", "build_s",
          "open_s", "solve_s", "repeats"]
PAINTED = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(document.querySelectorAll('svg.map use').length))))"


def measure(label: str, instance_name: str, area: str | None, time_limit: float | None, repeats: int, plan_path: str | None) -> dict:
    from browser import Page, find_chromium
    from optimiser import solve
    from optimiser.io.instance import load_instance
    from optimiser.io.model import load_model
    from optimiser.plan import Plan
    from optimiser.report.geo import plan_geojson, read_boundaries
    from optimiser.report.page import plan_report, today_evaluation
    from optimiser.report.labels import Labels, area_names

    instance = load_instance(instance_name)
    started = time.perf_counter()
    plan = Plan.read(plan_path) if plan_path else solve(instance, area=area, time_limit=time_limit)
    solved = time.perf_counter() - started
    model = load_model(plan.model, near=instance.folder)
    builds, page = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        boundaries = read_boundaries(instance)
        page = plan_report(plan, instance, model, areas=area_names(instance, plan.options.area),
                           today=today_evaluation(plan, instance, model), boundaries=boundaries)
        builds.append(time.perf_counter() - started)
    geojson = plan_geojson(plan, Labels.of(instance, model), instance)
    chromium = find_chromium()
    opens, elements = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        for _ in range(repeats if chromium else 0):
            with Page(chromium, timeout=300) as browser:
                started = time.perf_counter()
                browser.open(path)
                elements = browser.evaluate(PAINTED)
                opens.append(time.perf_counter() - started)
                if browser.errors():
                    raise SystemExit(f"{label}: the page logged errors: {browser.errors()[:3]}")
    return {"plan": label, "councils": len({c.code for c in plan.councils}), "partnerships": len(plan.partnerships),
            "functions": len({c.function for c in plan.councils}), "report_mb": round(len(page.encode("utf-8")) / 1e6, 2),
            "geojson_mb": round(len(geojson.encode("utf-8")) / 1e6, 2), "maps": page.count('<svg class="map'),
            "map_elements": elements, "build_s": round(statistics.median(builds), 2),
            "open_s": round(statistics.median(opens), 2) if opens else "", "solve_s": round(solved, 1), "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--area", help="only the plan of this label (Kent or UK)")
    parser.add_argument("--plan", help="a plan.json to use instead of solving (with --area naming its label)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for label, instance, area, limit in PLANS:
        if args.area and args.area != label:
            continue
        row = measure(label, instance, area, limit, args.repeats, args.plan)
        print(row, flush=True)
        rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = RESULTS / "report.csv"
    if table.exists():  # a run of one plan keeps the others' rows
        with table.open(newline="", encoding="utf-8") as handle:
            done = {row["plan"] for row in rows}
            rows = [row for row in csv.DictReader(handle) if row["plan"] not in done] + rows
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (RESULTS / "machine.txt").write_text(f"{platform.platform()}; {platform.processor() or platform.machine()}; "
                                         f"python {platform.python_version()}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
