"""What watching for a stop costs, and how soon a stop ends a run.

1. A run that proves its optimum, solved with and without a stop being watched (HiGHS then
   calls back into Python at every interrupt check): the solve times should agree.
2. The same run stopped ``--stop-after`` seconds in: how long from the stop to the plan, and
   the plan's proven gap.

    PYTHONPATH=. python benchmarks/stop.py                       # East of England, planning
    PYTHONPATH=. python benchmarks/stop.py --area Kent --functions legal,ict --repeats 3
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from optimiser import api  # noqa: E402


def timed(stop=None, **run):
    started = time.perf_counter()
    plan = api.solve(stop=stop, **run)
    return time.perf_counter() - started, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", default="england-2023")
    parser.add_argument("--area", default="East of England")
    parser.add_argument("--functions", default="planning")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--stop-after", type=float, default=10.0, help="seconds into the run the stop comes")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    run = dict(instance=args.instance, area=args.area, functions=args.functions, jobs=args.jobs)
    plain, watched = [], []
    for _ in range(args.repeats):
        seconds, plan = timed(**run)
        plain.append(seconds)
        seconds, watched_plan = timed(stop=threading.Event(), **run)  # watched, never set
        watched.append(seconds)
        assert watched_plan.objective == plan.objective or plan.status != "optimal"
    print(f"{args.area}, {args.functions}: {plan.status}; without a stop watched {statistics.median(plain):.1f} s, "
          f"with one watched {statistics.median(watched):.1f} s (medians of {args.repeats})")
    stop = threading.Event()
    timer = threading.Timer(args.stop_after, stop.set)
    started = time.perf_counter()
    timer.start()
    plan = api.solve(stop=stop, **run)
    ended = time.perf_counter() - started
    timer.cancel()
    after = ended - args.stop_after if stop.is_set() else None
    gap = plan.solver.gap
    print(f"stopped {args.stop_after:g} s in: {plan.status}, plan returned {ended:.1f} s after the start"
          + (f" ({after:.1f} s after the stop)" if after is not None else " (it finished first)")
          + (f", proven gap {100 * gap:.2f}%" if gap is not None else ", no proven gap"))


if __name__ == "__main__":
    main()
