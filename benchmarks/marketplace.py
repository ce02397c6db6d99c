"""The partner marketplace (SPEC §7) measured: how fast ``partners`` answers for one council
and every function on the UK, and how often today's durable arrangements come out among the
top suggestions for their own members.

Speed: each repeat runs in a fresh Python process, which loads the instance and model, then
calls ``optimiser.api.partners`` (every function of the run, Shapley shares, no plan); the
call is timed apart from loading. Validation: for each of the four real, durable arrangements
of ``shared/DOMAIN.md`` recorded in ``england-2023``'s partnerships.csv (Adur & Worthing,
Babergh & Mid Suffolk, South Oxfordshire & Vale of White Horse, Bromsgrove & Redditch), for
each of its functions and each member, where the pair itself ranks among that member's mutual
suggestions (staying alone as the outside option), and whether the partner is in any of the
top five; and, among pairs only (``--max-size 2``), where the pair ranks. The model is not tuned to this: it is the shipped uk-central, as it is.

    python benchmarks/marketplace.py --repeats 3
    python benchmarks/marketplace.py --repeats 3 --against ../before   # another checkout, side by side
    python benchmarks/marketplace.py --skip-speed

``--against DIR`` times a second checkout of the package (say, the commit before a change) in the
same run, council by council, each child importing the package from that folder. CPU seconds
are recorded beside wall seconds: on a machine shared with other work they vary less.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "marketplace"
COUNCILS = ["Ipswich", "Babergh", "Cardiff", "Highland", "Leeds", "Kent", "Birmingham"]
DURABLE = {"adur-worthing", "babergh-mid-suffolk", "south-oxfordshire-vale", "bromsgrove-redditch"}


def measure(instance: str, council: str) -> dict:
    """In this process: load the run, then find the council's partners for every function."""
    import logging

    logging.disable(logging.WARNING)
    started = time.perf_counter()
    from optimiser.api import partners
    from optimiser.io.instance import load_instance
    from optimiser.io.model import load_model

    inst = load_instance(instance)
    model = load_model(inst.model_ref, near=inst.folder)
    loaded, cpu = time.perf_counter(), time.process_time()
    result = partners(inst, council, model)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    return {"council": council, "groups": sum(f.groups for f in result.functions), "mutual": sum(f.mutual for f in result.functions),
            "functions": sum(1 for f in result.functions if f.eligible), "load_s": loaded - started, "partners_s": ended - loaded,
            "partners_cpu_s": cpu}


def speed(instance: str, repeats: int, sources: dict[str, str | None]) -> list[dict]:
    """Each council under each source ({label: checkout folder, None for this one}), the
    sources alternating repeat by repeat so that a change in the machine's load hits both."""
    rows = []
    for council in COUNCILS:
        runs = {label: [] for label in sources}
        for _ in range(repeats):
            for label, folder in sources.items():
                env = dict(os.environ, PYTHONPATH=str(Path(folder).resolve())) if folder else None
                out = subprocess.run([sys.executable, __file__, "--one", instance, council], capture_output=True, text=True,
                                     check=True, env=env)
                runs[label].append(json.loads(out.stdout))
        for label, found in runs.items():
            row = {"code": label, **{k: v for k, v in found[0].items() if not k.endswith("_s")}}
            row.update({k: round(statistics.median(r[k] for r in found), 3) for k in ("load_s", "partners_s", "partners_cpu_s")})
            row["repeats"] = repeats
            rows.append(row)
            print(f"{label:<8} {council:<12} {row['functions']:>2} functions {row['groups']:>7} groups {row['mutual']:>7} mutual  "
                  f"partners {row['partners_s']:.2f}s, {row['partners_cpu_s']:.2f}s CPU  (load {row['load_s']:.2f}s)", flush=True)
    return rows


def validation(instance: str) -> list[dict]:
    import logging

    logging.disable(logging.WARNING)
    from optimiser.api import partners
    from optimiser.io.instance import load_instance

    inst = load_instance(instance)
    rows = []
    for group in inst.partnerships:
        name = group.id.rsplit("-", 1)[0] if group.id.rsplit("-", 1)[0] in DURABLE else next(
            (d for d in DURABLE if group.id.startswith(d + "-")), None)
        if name is None:
            continue
        for member in group.members:
            others = set(group.members) - {member}
            found = partners(inst, member, functions=group.function, top=10_000).functions[0]
            ranked = [set(s.members) for s in found.suggestions]
            rank = next((r for r, members in enumerate(ranked, start=1) if members == set(group.members)), None)
            # among pairs only (--max-size 2): is today's partner the one it would choose?
            pairs = partners(inst, member, functions=group.function, top=10_000, max_size=2).functions[0]
            pair_rank = next((r for r, s in enumerate(pairs.suggestions, start=1) if set(s.members) == set(group.members)), None)
            rows.append({"arrangement": name, "function": group.function, "member": member, "mutual_groups": found.mutual,
                         "rank_of_pair": rank, "in_top_1": rank == 1, "in_top_5": rank is not None and rank <= 5,
                         "partner_in_top_5": any(others <= members for members in ranked[:5]),
                         "mutual_pairs": pairs.mutual, "rank_among_pairs": pair_rank, "best_pair": pair_rank == 1})
    return rows


def write(name: str, rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=2, metavar=("INSTANCE", "COUNCIL"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--against", metavar="DIR", help="also time the package of another checkout, side by side")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    if not args.skip_speed:
        sources = {"this": None, **({"against": args.against} if args.against else {})}
        write("speed.csv", speed("uk-2023", args.repeats, sources))
    rows = validation("england-2023")
    write("validation.csv", rows)
    n = len(rows)
    print(f"durable pairs, member by member and function by function ({n}): the pair itself ranks first {sum(r['in_top_1'] for r in rows)}, "
          f"in the top five {sum(r['in_top_5'] for r in rows)}; the partner in a top-five suggestion {sum(r['partner_in_top_5'] for r in rows)}; "
          f"the best pair {sum(r['best_pair'] for r in rows)}, in the top three pairs {sum((r['rank_among_pairs'] or 99) <= 3 for r in rows)}")
    machine = {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nproc": os.cpu_count(), "python": platform.python_version(),
               "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()}
    write("machine.csv", [{"key": k, "value": v} for k, v in machine.items()])


if __name__ == "__main__":
    main()
