"""What Ctrl-C and SIGTERM mean while a command solves: the first asks the solve to stop and
keep the best plan found so far (which is verified and written like any plan), the second
aborts at once (exit status 130, nothing written)."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

from ..report.terminal import say

SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


class StopOnSignal:
    """A ``threading.Event`` set by the first SIGINT or SIGTERM; the second raises
    KeyboardInterrupt (the command line's abort)."""

    def __init__(self, quiet: bool = False):
        self.event = threading.Event()
        self.quiet = quiet

    def __call__(self, signum, frame) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        if not self.quiet:
            name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
            say(f"\noptimiser: {name}: stopping; the best plan so far will be verified and written "
                "(press Ctrl-C again to abort without writing)", sys.stderr)


@contextmanager
def stop_on_signals(quiet: bool = False):
    """Yields a :class:`StopOnSignal` whose ``event`` the solve watches, with its handler on
    SIGINT and SIGTERM; the handlers before are restored afterwards. In a thread other than the
    main one (where no handler can be set) the event is never set."""
    stopper = StopOnSignal(quiet)
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return
    saved = {s: signal.signal(s, stopper) for s in SIGNALS}
    try:
        yield stopper
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
