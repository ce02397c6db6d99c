"""Independent blocks solved side by side, one worker process per core.

Without limits that tie functions together every function is its own block, and a national
run spends nearly all its time in per-block work (LP bound, cuts, plans, MIPs) that never
looks at another block. HiGHS solves each of these single-threaded, so a second core does
nothing unless blocks run in separate processes.

Each worker is a fresh interpreter (``python -m optimiser.parallel``), not a fork: the
solver's thread pool in the parent must not be copied into a child, and a fresh
interpreter does not re-run the caller's script the way multiprocessing's spawn does.
Parent and workers talk in length-prefixed pickles over pipes. The parent hands out blocks
one at a time, the largest expected first, to whichever worker asks; a worker does the first
phase (candidates, LP bound, cuts, a plan) of every block it is given, then the second phase
(fixing and MIPs) of its own blocks, sharing the time left among them, and sends each
block's result. Progress and log records travel the same way, so the caller sees them as
if the solve ran in its own process.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from .errors import SolveError

log = logging.getLogger(__name__)

#: below this many (function, council) pairs a run is over before workers have started
MIN_PAIRS = 400
_HEADER = struct.Struct("<Q")


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(problem, blocks: list[list[int]]) -> int:
    """How many worker processes the run should use; 1 means solve in this process."""
    requested = problem.options.jobs or available_cores()
    if requested < 2 or len(blocks) < 2 or int(problem.eligible.sum()) < MIN_PAIRS:
        return 1
    return min(requested, len(blocks))


def expected_work(problem, block: list[int]) -> float:
    """A rough size of a block's work, to hand the largest out first: its eligible councils
    times the square of its group size limit (candidate groups grow about that fast)."""
    return float(sum(problem.eligible[k].sum() * problem.max_size[k] ** 2 for k in block))


# ---------------------------------------------------------------- frames


def _send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    """The next message, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


# ---------------------------------------------------------------- the parent


def solve_blocks(problem, blocks: list[list[int]], solver: str, deadline: float | None, jobs: int, progress=None) -> tuple[dict, list[float]]:
    """Every block's result, solved by ``jobs`` worker processes.

    ``deadline`` is a ``time.perf_counter()`` instant. Returns ({block number: (the block's
    chosen candidates as a CandidateSet, its _BlockResult)}, each worker's peak memory in MB).
    """
    wall_deadline = None if deadline is None else time.time() + (deadline - time.perf_counter())
    order = sorted(range(len(blocks)), key=lambda b: -expected_work(problem, blocks[b]))
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    level = logging.getLogger("optimiser").getEffectiveLevel()
    setup = {"problem": problem, "solver": solver, "wall_deadline": wall_deadline, "log_level": level,
             "workers": jobs, "blocks": len(blocks)}
    inbox: queue.Queue = queue.Queue()
    workers = []
    try:
        for number in range(jobs):
            process = subprocess.Popen([sys.executable, "-m", "optimiser.parallel"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, env=env)
            workers.append(process)
            threading.Thread(target=_read_all, args=(number, process.stdout, inbox), daemon=True).start()
            _tell(process, setup)
        return _serve(workers, order, blocks, inbox, progress)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass


def _tell(process: subprocess.Popen, message) -> None:
    try:
        _send(process.stdin, message)
    except OSError as exc:  # the worker has gone; its exit status says more than the broken pipe
        raise SolveError(f"a worker process stopped unexpectedly (exit status {process.wait()})") from exc


def _read_all(number: int, stream, inbox: queue.Queue) -> None:
    while True:
        try:
            message = _receive(stream)
        except Exception as exc:  # a torn frame from a dying worker
            message = ("error", SolveError(f"worker {number} sent an unreadable message: {exc}"))
        inbox.put((number, message))
        if message is None or message[0] in ("done", "error"):
            return


def _serve(workers, order: list[int], blocks, inbox: queue.Queue, progress) -> tuple[dict, list[float]]:
    results: dict = {}
    peaks = [0.0] * len(workers)
    pending = list(order)
    running = len(workers)
    while running:
        number, message = inbox.get()
        if message is None:
            code = workers[number].wait()
            raise SolveError(f"a worker process stopped unexpectedly (exit status {code})")
        kind = message[0]
        if kind == "ready":
            reply = ("block", pending.pop(0), len(pending)) if pending else ("finish",)
            _tell(workers[number], reply)
        elif kind == "progress":
            if progress is not None:
                progress(*message[1])
        elif kind == "log":
            record = message[1]
            logging.getLogger(record.name).handle(record)
        elif kind == "result":
            _, block, chosen, result = message
            results[block] = (chosen, result)
            if result.status == "infeasible":
                return results, peaks  # the whole run is infeasible; the others need not finish
        elif kind == "done":
            peaks[number] = message[1]
            running -= 1
        elif kind == "error":
            raise message[1]
    if len(results) != len(blocks):
        raise SolveError(f"workers returned {len(results)} of {len(blocks)} blocks")
    return results, peaks


# ---------------------------------------------------------------- a worker


class _Forward(logging.Handler):
    """Sends log records to the parent, with their message already formatted."""

    def __init__(self, send):
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg, record.args, record.exc_info, record.exc_text = record.getMessage(), None, None, None
            self.send(("log", record))
        except Exception:
            self.handleError(record)


def _work(setup: dict, requests, send) -> None:
    from . import master
    from .candidates import CandidateGenerator

    problem = setup["problem"]
    deadline = None if setup["wall_deadline"] is None else time.perf_counter() + (setup["wall_deadline"] - time.time())
    workers = setup["workers"]
    all_blocks = master.blocks(problem)
    if len(all_blocks) != setup["blocks"]:
        raise SolveError(f"worker found {len(all_blocks)} blocks where the parent found {setup['blocks']}")

    def report(*details) -> None:
        send(("progress", details))

    generator = CandidateGenerator(problem, report)
    mine = []
    while True:
        send(("ready",))
        reply = _receive(requests)
        if reply is None or reply[0] == "finish":
            break
        _, number, still_unassigned = reply
        # this worker's likely share of the blocks not yet bounded, this one included
        to_come = 1 + still_unassigned / workers
        cand, state = master.first_phase(problem, generator, all_blocks[number], deadline, to_come, report)
        mine.append((number, cand, state))
    for number, chosen, result in master.second_phase(problem, mine, setup["solver"], deadline, report):
        send(("result", number, chosen, result))


def main() -> None:
    """Entry point of a worker process: reads its task from stdin, answers on stdout."""
    requests = sys.stdin.buffer
    # messages go out on a private copy of stdout; anything else printed goes to stderr
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def send(message) -> None:
        with lock:
            _send(answers, message)

    setup = _receive(requests)
    if setup is None:
        return
    root = logging.getLogger()
    root.handlers[:] = [_Forward(send)]
    root.setLevel(logging.WARNING)
    logging.getLogger("optimiser").setLevel(setup["log_level"])
    try:
        _work(setup, requests, send)
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
        try:
            pickle.dumps(exc)
        except Exception:
            exc = SolveError(f"{type(exc).__name__} in a worker process: {exc}")
        send(("error", exc))
        return
    try:
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    except ImportError:  # not on Unix
        peak_mb = 0.0
    send(("done", peak_mb))


if __name__ == "__main__":
    main()
