"""Independent blocks solved side by side, one worker process per core.

Without limits that tie functions together every function is its own block, and a national
run spends nearly all its time in per-block work (LP bound, cuts, plans, MIPs) that never
looks at another block. HiGHS solves each of these single-threaded, so a second core does
nothing unless blocks run in separate processes.

Each worker is a fresh interpreter (``WORKER_COMMAND``), not a fork: the solver's thread
pool in the parent must not be copied into a child, and a fresh interpreter does not re-run
the caller's script the way multiprocessing's spawn does. Parent and workers talk in
length-prefixed pickles over pipes; the worker moves its stdout aside before it imports
anything, so nothing printed can corrupt a message. The parent hands out blocks
one at a time, the largest expected first, to whichever worker asks; a worker does the first
phase (candidates, LP bound, cuts, a plan) of every block it is given, then the second phase
(fixing and MIPs) of its own blocks, splitting the time left among them, and sends each
block's result. Progress events and log records travel the same way, so the caller sees
them as if the solve ran in its own process.

A stop requested in the parent (``stop.requested()``) is passed on to every worker as a
message, which a thread of the worker reads at once: the worker's LPs and MIPs end as the
parent's would, and its blocks' best plans so far come back as results. Workers ignore
SIGINT, which a terminal sends to every process of the run: the parent decides what a
Ctrl-C means. When the parent is aborted, its workers are killed.

The runner is :func:`solve_blocks`, which the caller hands to the exact method
(``solve_master(..., run_blocks=workers.solve_blocks)``); the exact method itself knows
nothing of processes. Runs too small for workers are solved in the calling process.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import threading

from ..candidates import CandidateGenerator
from ..errors import SolveError
from ..processes import available_cores, frame, read_all, receive, run_worker, send, worker_command, worker_processes
from ..progress import report
from . import exact, stop
from .clock import local_clock, wall_clock
from .results import BlockResult, BlockRun

#: below this many (function, council) pairs a run is over before workers have started
MIN_PAIRS = 400
STOP_POLL_SECONDS = 0.1  # how often the parent looks for a stop request while it waits for workers
WORKER_COMMAND = worker_command("optimiser.solve.workers")


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


# ---------------------------------------------------------------- the parent


def solve_blocks(problem, generator, blocks: list[list[int]], solver: str, deadline: float | None, progress=None,
                 started: float | None = None) -> BlockRun:
    """Every block's result, solved by worker processes (``worker_count`` of them), or in
    this process when one is enough (then ``generator`` makes the candidates).

    ``deadline`` and ``started`` are ``time.perf_counter()`` instants (the run's time limit,
    and when it began).
    """
    jobs = worker_count(problem, blocks)
    if jobs < 2:
        return exact.solve_blocks_here(problem, generator, blocks, solver, deadline, progress, started)
    results, peaks = _solve_in_workers(problem, generator, blocks, solver, deadline, jobs, progress, started)
    return BlockRun(results, jobs, tuple(peaks))


def _solve_in_workers(problem, generator, blocks, solver, deadline, jobs, progress, started) -> tuple[dict, list[float]]:
    order = sorted(range(len(blocks)), key=lambda b: -expected_work(problem, blocks[b]))
    level = logging.getLogger("optimiser").getEffectiveLevel()
    setup = frame({"problem": problem, "solver": solver, "wall_deadline": wall_clock(deadline), "log_level": level,
                    "wall_started": wall_clock(started), "workers": jobs, "blocks": len(blocks),
                    "record_worth": generator.record_worth})
    inbox: queue.Queue = queue.Queue()
    with worker_processes(WORKER_COMMAND, jobs, read_all, inbox) as workers:
        # every worker imports the package meanwhile: the first waits for its task, not the last
        for process in workers:
            _tell(process, setup)
        return serve(workers, order, blocks, inbox, progress, generator.worth)


def _tell(process: subprocess.Popen, message) -> None:
    try:
        send(process.stdin, message)
    except OSError as exc:  # the worker has gone; its exit status says more than the broken pipe
        raise _stopped(process) from exc


def _stopped(process: subprocess.Popen) -> SolveError:
    return SolveError(f"a worker process stopped unexpectedly (exit status {process.wait()}); "
                      "its own message, if any, is above; --jobs 1 solves in this process")


def serve(workers, order: list[int], blocks, inbox: queue.Queue, progress, worth: dict | None = None) -> tuple[dict, list[float]]:
    """The parent's side: hands out blocks (in ``order``) to workers that ask, passes their
    progress events and log records on, and collects their results from ``inbox`` (and into
    ``worth`` what their candidate generators recorded of the groups' worth).

    Returns ({block number: (its chosen options, its BlockResult)}, each worker's peak memory
    in MB); raises a worker's error, or a SolveError when a worker stops unexpectedly.
    """
    results: dict = {}
    peaks = [0.0] * len(workers)
    pending = list(order)
    running = len(workers)
    told_to_stop = False
    while running:
        if not told_to_stop and stop.requested():
            told_to_stop = True
            for process in workers:
                try:
                    send(process.stdin, frame(("stop",)))
                except OSError:
                    pass  # a worker that has gone has nothing to stop
        try:
            number, message = inbox.get(timeout=STOP_POLL_SECONDS)
        except queue.Empty:
            continue
        if message is None:
            raise _stopped(workers[number])
        kind = message[0]
        if kind == "ready":
            reply = ("block", pending.pop(0), len(pending)) if pending else ("finish",)
            _tell(workers[number], reply)
        elif kind == "progress":
            report(progress, message[1])
        elif kind == "log":
            record = message[1]
            logging.getLogger(record.name).handle(record)
        elif kind == "worth":
            if worth is not None:
                worth.update(message[1])
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


def _read_requests(requests, inbox: queue.Queue, stopped: threading.Event, finished: threading.Event) -> None:
    """A worker's reader of its parent's messages: a stop sets ``stopped`` at once, others go
    to ``inbox``; the end of input means the parent has gone (unless the work is finished)."""
    while True:
        try:
            message = receive(requests)
        except Exception:  # noqa: BLE001 - a torn frame: the parent died mid-message
            message = None
        if message is None:
            if not finished.is_set():
                # the file descriptor's owner is gone: nothing more will be read or wanted
                os._exit(1)
            return
        if message[0] == "stop":
            stopped.set()
        else:
            inbox.put(message)


def _work(setup: dict, requests, send) -> None:
    problem = setup["problem"]
    deadline = local_clock(setup["wall_deadline"])
    started = local_clock(setup["wall_started"])
    workers = setup["workers"]
    all_blocks = exact.blocks(problem)
    if len(all_blocks) != setup["blocks"]:
        raise SolveError(f"worker found {len(all_blocks)} blocks where the parent found {setup['blocks']}")

    def forward(event) -> None:
        send(("progress", event))

    generator = CandidateGenerator(problem, forward, record_worth=setup["record_worth"])
    replies: queue.Queue = queue.Queue()
    stopped, finished = threading.Event(), threading.Event()
    threading.Thread(target=_read_requests, args=(requests, replies, stopped, finished), daemon=True).start()
    with stop.watching(stopped):
        _work_through(problem, setup, generator, all_blocks, deadline, workers, started, replies, forward, send)
    finished.set()


def _work_through(problem, setup, generator, all_blocks, deadline, workers, started, replies, forward, send) -> None:
    mine = []
    while True:
        send(("ready",))
        reply = replies.get()
        if reply[0] == "finish":
            break
        _, number, still_unassigned = reply
        # how many of the blocks not yet bounded this worker is likely to bound, this one included
        to_come = 1 + still_unassigned / workers
        cand, state = exact.first_phase(problem, generator, all_blocks[number], deadline, to_come, forward, started)
        if generator.worth:  # the parent keeps it for the plan's stability; this worker needs it no more
            send(("worth", dict(generator.worth)))
            generator.worth.clear()
        if isinstance(state, BlockResult) and state.status == "infeasible":
            send(("result", number, cand.take(state.chosen), state))  # the whole run is infeasible
            return
        mine.append((number, cand, state))
    for number, chosen, result in exact.second_phase(problem, mine, setup["solver"], deadline, forward, started):
        send(("result", number, chosen, result))


def main(answers_fd: int) -> None:
    """A worker: reads its task from stdin, answers on ``answers_fd`` (see WORKER_COMMAND)."""
    run_worker(answers_fd, _work)
