"""Shared test setup: the project root on sys.path, so ``import optimiser`` and the test
helpers (``tests/randomized.py``) work however pytest is started."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture
def warnings_off():
    """The engine's warnings silenced (it warns about rows it leaves out, for one), so that
    modules of many random solves keep their output readable; not for every test: some read
    the warnings."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)
