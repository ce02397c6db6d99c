"""What the command line writes to a terminal: text any terminal can show (an ASCII-only one
gets "GBP" for "£"), warnings as one line each, and progress as a status line rewritten in
place."""

from __future__ import annotations

import logging
import sys
import unicodedata

from ..progress import Clock, ProgressEvent

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


class TerminalProgress:
    """Progress events as one status line on stderr, rewritten in place when stderr is a
    terminal; elsewhere each event is logged (shown with ``--verbose``)."""

    LEGACY = {"pricing": "bound", "fixing": "mip"}

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.clock = Clock()
        self.width = 0

    def __call__(self, event, *details) -> None:
        if not isinstance(event, ProgressEvent):  # (stage, *details) from parts not yet on events
            event = self._event(event, details)
        if not self.enabled:
            log.info("%s", event.text())
            return
        line = printable(f"[{self.clock():6.1f}s] {event.text()}", sys.stderr)
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
