"""HiGHS solver objects that stay silent.

From version 1.16 HiGHS writes a licence banner straight to the process's standard output
the first time a solver object is made, before any option can turn its output off. That
would break ``--quiet``, interleave with the terminal summary and corrupt anything a caller
pipes from stdout. The banner comes once per process, so the first solver object is made
with file descriptor 1 pointed at the null device; every later one (ours or PuLP's) is quiet
once ``output_flag`` is off.
"""

from __future__ import annotations

import os
import sys
import threading

_lock = threading.Lock()
_banner_spent = False


def silence_banner() -> None:
    """Make sure HiGHS has printed (to nowhere) the banner it prints once per process."""
    global _banner_spent
    if _banner_spent:
        return
    import highspy

    with _lock:
        if _banner_spent:
            return
        try:
            if sys.stdout is not None:
                sys.stdout.flush()  # what Python holds for stdout must not go to the null device
        except (OSError, ValueError):
            pass
        try:
            saved = os.dup(1)
        except OSError:
            highspy.Highs()  # no standard output to protect
        else:
            # process-wide for the moment it takes to make one solver object
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(null, 1)
                    highspy.Highs()
                finally:
                    os.dup2(saved, 1)
                    os.close(null)
            finally:
                os.close(saved)
        _banner_spent = True


def new_highs():
    """A ``highspy.Highs`` object with its output turned off."""
    import highspy

    silence_banner()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    return solver


def use_one_thread() -> None:
    """Makes HiGHS run on one thread in this process from now on.

    HiGHS keeps one pool of threads per process, sized by the first solve that runs (by
    default to half the cores). Several processes solving side by side (a scenario sweep)
    would each start such a pool and fight over the cores, so a process that is one of many
    runs a trivial one-thread solve first; later solves keep that pool."""
    solver = new_highs()
    solver.setOptionValue("threads", 1)
    solver.addVar(0.0, 1.0)
    solver.run()
