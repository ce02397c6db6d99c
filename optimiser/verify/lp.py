"""The verifier's LP solvers, through PuLP, and quiet.

* HiGHS (``pulp.HiGHS``, in-process) is fast, but from version 1.16 it writes a licence
  banner straight to the process's standard output (file descriptor 1) the first time a
  solver object is made, before any option can turn its output off. :func:`highs` spends that
  banner once per process by solving a one-variable LP with descriptor 1 pointed at the null
  device; every later solver object is quiet once ``msg=False`` turns ``output_flag`` off.
* CBC (``pulp.PULP_CBC_CMD``) is a subprocess; PuLP 3.3 warns that the class is deprecated
  every time one is made. :func:`cbc` makes one with that warning silenced.

Nothing here imports the engine's solver code: it is the same precaution, written again.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

import pulp

_lock = threading.Lock()
_banner_spent = False


def highs_available() -> bool:
    try:
        return bool(pulp.HiGHS(msg=False).available())
    except Exception:  # pragma: no cover - a PuLP without its HiGHS interface
        return False


def _tiny_lp() -> pulp.LpProblem:
    problem = pulp.LpProblem("banner", pulp.LpMinimize)
    x = problem.add_variable("x", lowBound=0)
    problem.setObjective(x)
    problem += x >= 1
    return problem


def spend_banner() -> None:
    """Make sure HiGHS has printed (to nowhere) the banner it prints once per process."""
    global _banner_spent
    if _banner_spent:
        return
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
        except OSError:  # no standard output to protect
            _tiny_lp().solve(pulp.HiGHS(msg=False))
        else:
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(null, 1)
                    _tiny_lp().solve(pulp.HiGHS(msg=False))
                finally:
                    os.dup2(saved, 1)
                    os.close(null)
            finally:
                os.close(saved)
        _banner_spent = True


def cbc(**options):
    """A quiet ``pulp.PULP_CBC_CMD`` (its deprecation warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, **options)


def highs():
    """A quiet ``pulp.HiGHS`` solver, its banner spent; CBC when PuLP has no HiGHS."""
    if not highs_available():
        return cbc()
    spend_banner()
    return pulp.HiGHS(msg=False)
