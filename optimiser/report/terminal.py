"""What the command line writes to a terminal: text any terminal can show (an ASCII-only one
gets "GBP" for "£"), warnings as one line each, and progress as a status line rewritten in
place."""

from __future__ import annotations

import logging
import shutil
import sys
import unicodedata

from ..progress import Clock, ProgressEvent, RunTracker

log = logging.getLogger("optimiser")


def printable(text: str, stream) -> str:
    """``text`` as ``stream`` can encode it: "£" becomes "GBP", accents are dropped, anything
    else unprintable becomes "?" (an ASCII-only terminal never fails a run)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        text = unicodedata.normalize("NFKD", text.replace("£", "GBP "))
        text = "".join(c for c in text if not unicodedata.combining(c))
        try:
            return text.encode(encoding, errors="replace").decode(encoding)
        except LookupError:
            return text.encode("ascii", errors="replace").decode("ascii")


def say(text: str = "", file=None) -> None:
    """Prints ``text`` (to stdout unless ``file``) in a form the stream can encode."""
    stream = file or sys.stdout
    stream.write(printable(text, stream) + "\n")


def can_print_pounds(stream) -> bool:
    return printable("£", stream) == "£"


class WarningHandler(logging.Handler):
    """Warnings as ``optimiser: warning: ...`` on the stderr of the moment (other records, with
    --verbose, as ``INFO name: message``)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                text = f"optimiser: {record.levelname.lower()}: {message}"
            else:
                text = f"{record.levelname} {record.name}: {message}"
            say(text, sys.stderr)
        except Exception:  # pragma: no cover - logging must never end a run
            self.handleError(record)


def duration(seconds: float) -> str:
    """Seconds as a person reads them: 45s, 4m05s, 1h12m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class TerminalProgress:
    """Progress events as one status line on stderr, rewritten in place when stderr is a
    terminal (``enabled``). Elsewhere each event is logged (shown with ``--verbose``) and,
    every ``every`` seconds (None: never), the latest is written as one line of its own, so
    that a long run in a log file or CI says how far it is. Each line ends with the run as a
    whole: its blocks bounded so far or its overall proven gap, and the time left of
    ``time_limit`` (seconds from when this object was made)."""

    LEGACY = {"pricing": "bound", "fixing": "mip"}

    def __init__(self, enabled: bool, time_limit: float | None = None, every: float | None = None):
        self.enabled = enabled
        self.clock = Clock()
        self.width = 0
        self.time_limit = time_limit
        self.every = every
        self.last_line = 0.0
        self.run = RunTracker()

    def line(self, event: ProgressEvent) -> str:
        """The event and the run as a whole, as one line with the time since the start."""
        now = self.clock()
        overall = [self.run.summary()]
        if self.time_limit is not None:
            overall.append(f"{duration(self.time_limit - now)} left" if now < self.time_limit else "time limit reached")
        overall = " | ".join(o for o in overall if o)
        return f"[{now:6.1f}s] {event.text()}" + (f"  | {overall}" if overall else "")

    def __call__(self, event, *details) -> None:
        if not isinstance(event, ProgressEvent):  # (stage, *details) from parts not yet on events
            event = self._event(event, details)
        self.run.add(event)
        if not self.enabled:
            log.info("%s", event.text())
            if self.every is not None and self.clock() - self.last_line >= self.every:
                self.last_line = self.clock()
                say(f"optimiser: progress {self.line(event)}", sys.stderr)
            return
        # longer than the terminal is wide, the line would wrap and no longer be rewritten in place
        line = printable(self.line(event), sys.stderr)[: max(20, shutil.get_terminal_size().columns - 1)]
        sys.stderr.write("\r" + line.ljust(self.width))
        self.width = len(line)
        sys.stderr.flush()

    def _event(self, stage, details) -> ProgressEvent:
        d = list(details) + [None] * 4
        if stage == "candidates":
            return ProgressEvent("candidates", d[0], d[1], d[2])
        if stage == "pricing":
            return ProgressEvent("bound", d[0], d[2], bound=d[3], detail=f"round {d[1]}")
        if stage == "fixing":
            return ProgressEvent("mip", d[0], d[1], d[2], incumbent=d[3])
        return ProgressEvent(str(stage), detail=" ".join(str(x) for x in details))

    def done(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def log_handler() -> logging.Handler:
    """A handler for the ``optimiser`` logger that writes to the stderr of the moment."""
    return WarningHandler()
