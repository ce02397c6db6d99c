"""Worker processes that talk to their parent in length-prefixed pickles over pipes.

Used by the solve's block workers and by the analysis that shares a plan's functions among
processes. A worker is a fresh interpreter started with ``-c`` (never a fork: a solver's
thread pool in the parent must not be copied into a child, and a fresh interpreter does not
re-run the caller's script the way multiprocessing's spawn does). It gets a private copy of
stdout for its answers before the package is imported, so nothing printed can corrupt a
message, and ignores SIGINT: a terminal's Ctrl-C reaches every process of a run and the
parent decides what it means.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import site
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from .errors import SolveError

MAGIC = b"OPTW"
HEADER = struct.Struct("<4sQ")


def worker_command(module: str) -> list[str]:
    """The command line of a worker whose ``main(answers_fd)`` is in ``module``; -P keeps the
    current folder (which may hold another copy of the package) off sys.path."""
    return [sys.executable, "-P", "-c",
            "import os, signal; signal.signal(signal.SIGINT, signal.SIG_IGN); answers = os.dup(1); os.dup2(2, 1); "
            f"from {module} import main; main(answers)"]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def frame(message) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(MAGIC, len(data)) + data


def send(stream, message) -> None:
    """Writes ``message`` (or an already framed one) to ``stream``."""
    stream.write(message if isinstance(message, bytes) else frame(message))
    stream.flush()


def receive(stream):
    """The next message, or None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    magic, length = HEADER.unpack(header)
    if magic != MAGIC:
        raise ValueError(f"not a message (starts {header[:8]!r})")
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def worker_environment() -> dict:
    """This environment, with the folder holding this package on PYTHONPATH unless a worker
    finds it anyway (installed in site-packages)."""
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    folders = [*getattr(site, "getsitepackages", list)(), site.getusersitepackages()]
    installed = {str(Path(p).resolve()) for p in folders}
    if package_root not in installed:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def close_quietly(stream) -> None:
    try:
        stream.close()
    except OSError:
        pass


class RawInput:
    """A file descriptor read without a buffer: a thread blocked inside a buffered reader stops
    the interpreter from shutting down cleanly, and a worker's reader thread is blocked in a
    read whenever the worker ends."""

    def __init__(self, fd: int):
        self.fd = fd

    def read(self, count: int) -> bytes:
        chunks, left = [], count
        while left:
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class ForwardLogs(logging.Handler):
    """Sends log records to the parent, with their message already formatted."""

    def __init__(self, send_message):
        super().__init__()
        self.send_message = send_message

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + self.formatException(record.exc_info)
            record.msg, record.args, record.exc_info, record.exc_text = message, None, None, None
            self.send_message(("log", record))
        except Exception:
            self.handleError(record)


def peak_memory_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    except ImportError:  # not on Unix
        return 0.0


def read_all(number: int, stream, inbox: queue.Queue) -> None:
    """Puts every message from worker ``number``'s ``stream`` on ``inbox`` as (number, message),
    up to its last (None at the end of the stream; an unreadable one becomes an error)."""
    while True:
        try:
            message = receive(stream)
        except Exception as exc:  # a torn frame from a dying worker
            message = ("error", SolveError(f"worker {number} sent an unreadable message: {exc}"))
        inbox.put((number, message))
        if message is None or message[0] in ("done", "error"):
            return


@contextmanager
def worker_processes(command: list[str], count: int, read, inbox):
    """``count`` workers running ``command``, each with a daemon thread ``read(number, its
    stdout, inbox)`` that puts its messages on ``inbox``. If the block raises (an abort, or a
    worker's failure) the workers are killed: their work is not wanted. Afterwards each
    worker's input is closed, which tells it its parent is done with it."""
    workers: list[subprocess.Popen] = []
    try:
        for number in range(count):
            try:
                process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=worker_environment())
            except OSError as exc:
                raise SolveError(f"could not start a worker process ({exc}); --jobs 1 works in this process") from exc
            workers.append(process)
            threading.Thread(target=read, args=(number, process.stdout, inbox), daemon=True).start()
        yield workers
    except BaseException:
        for process in workers:
            process.kill()
        raise
    finally:
        for process in workers:
            close_quietly(process.stdin)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            close_quietly(process.stdout)


# ---------------------------------------------------------------- a pool of task workers


def map_in_workers(target: str, context, tasks: list, jobs: int) -> list:
    """``[target(context, task) for task in tasks]``, computed by ``jobs`` worker processes.

    ``target`` is ``"module:function"``, imported by each worker; ``context`` (sent once to
    each worker) and every task and result must pickle. Tasks go out in the order given (put
    the largest first) to whichever worker asks; log records come back to this process's
    loggers. A worker's exception is raised here; an abort here (Ctrl-C) kills the workers.
    """
    level = logging.getLogger("optimiser").getEffectiveLevel()
    setup = frame({"target": target, "context": context, "log_level": level})
    inbox: queue.Queue = queue.Queue()
    results: dict[int, object] = {}
    with worker_processes(worker_command("optimiser.processes"), jobs, read_all, inbox) as workers:
        for process in workers:
            send(process.stdin, setup)
        pending = list(range(len(tasks)))
        running = len(workers)
        while running:
            number, message = inbox.get()
            if message is None:
                raise SolveError(f"a worker process stopped unexpectedly (exit status {workers[number].wait()})")
            kind = message[0]
            if kind == "ready":
                if pending:
                    task = pending.pop(0)
                    send(workers[number].stdin, ("task", task, tasks[task]))
                else:
                    send(workers[number].stdin, ("finish",))
            elif kind == "result":
                results[message[1]] = message[2]
            elif kind == "log":
                logging.getLogger(message[1].name).handle(message[1])
            elif kind == "error":
                raise message[1]
            elif kind == "done":
                running -= 1
    return [results[number] for number in range(len(tasks))]


def main(answers_fd: int) -> None:
    """A task worker (see :func:`map_in_workers`): reads its setup and tasks from stdin,
    answers on ``answers_fd``."""
    run_worker(answers_fd, _do_tasks)


def _do_tasks(setup: dict, requests, answer) -> None:
    import importlib

    module, name = setup["target"].split(":")
    function = getattr(importlib.import_module(module), name)
    while True:
        answer(("ready",))
        request = receive(requests)
        if request is None or request[0] == "finish":
            return
        _, number, task = request
        answer(("result", number, function(setup["context"], task)))


def run_worker(answers_fd: int, work) -> None:
    """The life of a worker: its setup read from stdin, its log records sent to the parent,
    ``work(setup, requests, answer)`` done, then ("done", its peak memory) answered on
    ``answers_fd``; a failure is sent to the parent instead (see :func:`report_failure`)."""
    import signal

    requests = RawInput(sys.stdin.fileno())
    answers = os.fdopen(answers_fd, "wb")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what a Ctrl-C means (also when run alone)
    sys.stdout = sys.stderr
    lock = threading.Lock()  # a worker's threads may answer at once

    def answer(message) -> None:
        with lock:
            send(answers, message)

    try:
        setup = receive(requests)
        if setup is None:
            return
        root = logging.getLogger()
        root.handlers[:] = [ForwardLogs(answer)]
        root.setLevel(logging.WARNING)
        logging.getLogger("optimiser").setLevel(setup["log_level"])
        work(setup, requests, answer)
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
        report_failure(exc, answer)
        return
    try:
        answer(("done", peak_memory_mb()))
    except OSError:
        pass  # the parent has gone


def report_failure(exc: BaseException, answer) -> None:
    """Sends ``exc`` to the parent: as itself when it survives the trip (bad input stays bad
    input), else as a SolveError that names it. The traceback of a bug goes along as an
    INFO record (the command line shows it with --verbose)."""
    if not isinstance(exc, (SolveError, ValueError, KeyboardInterrupt, SystemExit)):
        logging.getLogger(__name__).info("a worker process failed", exc_info=(type(exc), exc, exc.__traceback__))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = SolveError(f"{type(exc).__name__} in a worker process: {exc}")
    try:
        answer(("error", exc))
    except OSError:
        pass  # the parent has gone
