"""The examples in the package's docstrings run, so that they stay true (examples marked
``# doctest: +SKIP`` need a long solve or a file of the reader's own)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import optimiser

MODULES = sorted(m.name for m in pkgutil.walk_packages(optimiser.__path__, "optimiser.")
                 if not m.name.startswith("optimiser.data") and not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    monkeypatch.chdir(optimiser.__path__[0] + "/..")  # examples name instances as a user in a clone would
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see the output above)"


def test_the_public_names_have_docstrings():
    missing = [name for name in optimiser.__all__ if not (getattr(optimiser, name).__doc__ or "").strip()]
    assert not missing, f"public names without a docstring: {missing}"
