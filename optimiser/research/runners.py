"""Where a sweep's scenarios are solved: a pool of local processes, or a Dask cluster.

Either runner takes the tasks and yields each result as it comes back, in the order they
finish. A pool worker is a fresh interpreter (spawn, not fork: nothing of the parent's solver
state is copied) that ignores Ctrl-C; the parent stops the pool when it is interrupted, so a
Ctrl-C never leaves a scenario half-recorded. Dask is optional: asking for it without it
installed is an InputError that gives the pip command.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from typing import Iterator

from ..errors import InputError
from .scenario import run_scenario

log = logging.getLogger(__name__)

DASK_MISSING = "pip install 'partnership-optimiser[sweep]' (or: pip install 'dask[distributed]')"


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_on_pool(tasks: list[dict], workers: int) -> Iterator[dict]:
    """Results of ``tasks`` solved by ``workers`` local processes."""
    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(min(workers, len(tasks)), initializer=_ignore_interrupts)
    try:
        yield from pool.imap_unordered(run_scenario, tasks, chunksize=1)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def dask_client(scheduler: str, workers: int, processes: bool = True):
    """A Dask client: of a ``LocalCluster`` of ``workers`` one-thread workers started for the
    run (``scheduler == "local"``), or of the cluster whose scheduler is at ``scheduler``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler", f"needs Dask distributed, which is not installed: {DASK_MISSING}") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None)
        return Client(cluster)
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError("--scheduler", f"cannot reach a Dask scheduler at '{scheduler}': {exc}") from None


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
        for future in as_completed(futures):
            yield future.result()
    finally:
        if futures:
            client.cancel(futures)
        cluster = client.cluster
        client.close()
        if cluster is not None and local:
            cluster.close()
