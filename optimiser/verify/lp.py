"""The verifier's LP solvers, through PuLP, and quiet.

* HiGHS (``pulp.HiGHS``, in-process) is fast, but from version 1.16 it writes a licence
  banner straight to standard output the first time a solver object is made. The banner is
  spent once per process by :func:`optimiser.highs.silence_banner`, the one piece of the
  package outside errors, io and problem the verifier uses: it is about the process's output,
  not about any figure the verifier checks.
* CBC (``pulp.PULP_CBC_CMD``) is a subprocess; PuLP 3.3 warns that the class is deprecated
  every time one is made. :func:`cbc` makes one with that warning silenced.
"""

from __future__ import annotations

import warnings

import pulp

from ..highs import silence_banner


def highs_available() -> bool:
    try:
        return bool(pulp.HiGHS(msg=False).available())
    except Exception:  # pragma: no cover - a PuLP without its HiGHS interface
        return False


def cbc(**options):
    """A quiet ``pulp.PULP_CBC_CMD`` (its deprecation warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, **options)


def highs():
    """A quiet ``pulp.HiGHS`` solver, its banner spent; CBC when PuLP has no HiGHS."""
    if not highs_available():
        return cbc()
    silence_banner()
    return pulp.HiGHS(msg=False)
