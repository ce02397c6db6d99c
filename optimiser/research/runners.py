"""Where a sweep's scenarios are solved: a pool of local processes, or a Dask cluster.

Either runner takes the tasks and yields each result as it comes back, in the order they
finish. A pool worker is a fresh interpreter (spawn, not fork: nothing of the parent's solver
state is copied) that is handed one task at a time over a pipe and ignores Ctrl-C; the parent
stops the workers when it is interrupted, so a Ctrl-C never leaves a scenario half-recorded,
and it watches each worker's process, so one that dies mid-scenario fails that scenario
instead of hanging the sweep. Dask is optional: asking for it without it
installed is an InputError that gives the pip command.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from multiprocessing.connection import wait
from typing import Iterator

from ..errors import InputError
from .scenario import failed, run_scenario

log = logging.getLogger(__name__)

DASK_MISSING = "pip install 'partnership-optimiser[sweep]' (or: pip install 'dask[distributed]')"


def run_on_pool(tasks: list[dict], workers: int, solve=run_scenario) -> Iterator[dict]:
    """Results of ``tasks`` solved by ``workers`` local processes, each handed one task at a
    time by ``solve`` (a module-level function). A worker that dies (out of memory, killed)
    gives its scenario a result with that error, and a new worker takes its place."""
    if not tasks:
        return iter(())
    return _pool_results(list(tasks), min(workers, len(tasks)), solve)


def _serve(connection, solve) -> None:
    """A pool worker: solves each task it is sent until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            task = connection.recv()
        except EOFError:  # the parent is gone
            return
        if task is None:
            return
        connection.send(solve(task))


def _pool_results(tasks: list[dict], count: int, solve) -> Iterator[dict]:
    context = multiprocessing.get_context("spawn")
    waiting = list(reversed(tasks))
    busy: dict = {}  # connection -> (process, task)
    started: list = []  # every worker, to stop whichever is left when the sweep stops

    def hand_out(connection, process) -> None:
        if waiting:
            task = waiting.pop()
            connection.send(task)
            busy[connection] = (process, task)
        else:
            connection.send(None)
            connection.close()
            process.join()

    def start() -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, solve), daemon=True)
        process.start()
        theirs.close()
        started.append((process, ours))
        hand_out(ours, process)

    try:
        for _ in range(count):
            start()
        while busy:
            sentinels = {process.sentinel: connection for connection, (process, _) in busy.items()}
            for ready in wait([*busy, *sentinels]):
                connection = sentinels.get(ready, ready)
                if connection not in busy:
                    continue
                process, task = busy.pop(connection)
                try:
                    result = connection.recv() if connection.poll() else None
                except (EOFError, OSError):
                    result = None
                if result is not None:
                    yield result
                    hand_out(connection, process)
                    continue
                process.join()
                log.warning("the worker solving scenario %s died (exit code %s)", task["key"], process.exitcode)
                yield failed(task, f"its worker process died (exit code {process.exitcode}; out of memory?)", time.perf_counter())
                connection.close()
                if waiting:
                    start()
    finally:
        for process, connection in started:
            if process.is_alive():
                process.terminate()
            process.join()
            connection.close()


def dask_client(scheduler: str, workers: int, processes: bool = True):
    """A Dask client: of a ``LocalCluster`` of ``workers`` one-thread workers started for the
    run (``scheduler == "local"``), or of the cluster whose scheduler is at ``scheduler``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler", f"needs Dask distributed, which is not installed: {DASK_MISSING}") from None
    quiet_dask()
    if scheduler == "local":
        # silence_logs quietens the workers' own processes too: a Ctrl-C is one line, not their tracebacks
        # the workers are started with Ctrl-C ignored (they keep it across exec), as the pool's are:
        # a Ctrl-C is the sweep's to handle, and a worker that took it would print its traceback
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if processes else None
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster)
    try:
        return Client(scheduler, timeout="10s")
    except Exception as exc:  # whatever answers there may not speak Dask: any failure is the address's
        raise InputError("--scheduler", f"cannot connect to {scheduler}: {type(exc).__name__}: "
                         f"{' '.join(str(exc).split()) or 'no reason given'}") from None


def quiet_dask() -> None:
    """Dask's own logging off but for what stops it: the sweep reports every scenario's fate itself."""
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def run_on_dask(tasks: list[dict], scheduler: str, workers: int, processes: bool = True) -> Iterator[dict]:
    """Results of ``tasks`` solved on a Dask cluster (see :func:`dask_client`). The client is
    made at once, so a missing Dask or an unreachable scheduler fails before anything is written."""
    if not tasks:
        return iter(())
    client = dask_client(scheduler, workers, processes)
    return _results(client, tasks, local=scheduler == "local")


def _results(client, tasks: list[dict], local: bool) -> Iterator[dict]:
    from distributed import as_completed

    futures = []
    try:
        futures = client.map(run_scenario, tasks, key=[f"scenario-{task['key']}" for task in tasks], pure=False)
        task_of_future = dict(zip((future.key for future in futures), tasks))
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the scenario's workers died (Dask's KilledWorker) or the task was lost
                log.warning("scenario %s failed on Dask: %s: %s", task_of_future[future.key]["key"], type(exc).__name__, exc)
                yield failed(task_of_future[future.key], f"on Dask: {type(exc).__name__}: {' '.join(str(exc).split())}",
                             time.perf_counter())
    finally:
        _close(client, futures, local)


def _close(client, futures, local: bool) -> None:
    """Cancels what is left and closes the client (and the cluster started for the run)
    quietly: on a Ctrl-C the workers are already going, and what they say on the way out is noise."""
    cluster = client.cluster
    for step in ((lambda: client.cancel(futures)) if futures else None, client.close,
                 cluster.close if cluster is not None and local else None):
        if step is None:
            continue
        try:
            step()
        except (Exception, KeyboardInterrupt) as exc:  # a second Ctrl-C or a worker already gone
            log.debug("closing Dask: %s: %s", type(exc).__name__, exc)
