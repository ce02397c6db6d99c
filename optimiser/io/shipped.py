"""Where the shipped instances and savings models live, so they are found by name from any
folder: ``./instances`` and ``./models`` first (a user's own), then the copies installed with
the package (``optimiser/data/``), then the source tree's (a clone used without installing).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
INSTALLED_DATA = _PACKAGE / "data"
SOURCE_ROOT = _PACKAGE.parent


def _existing(folders: list[Path]) -> list[Path]:
    """Each folder once, in order."""
    return list(dict.fromkeys(folder.resolve() for folder in folders))


def instance_homes() -> list[Path]:
    """Folders holding instance folders, searched in order for an instance given by name."""
    return _existing([Path.cwd() / "instances", INSTALLED_DATA / "instances", SOURCE_ROOT / "instances"])


def model_homes(near: Path | None = None) -> list[Path]:
    """Folders searched for a model given by name: ./models, the models beside the instance's
    own project (``near`` is the instance folder), the installed ones, the source tree's."""
    folders = [Path.cwd() / "models"]
    if near is not None:
        folders.append(near.resolve().parent.parent / "models")
    folders += [INSTALLED_DATA / "models", SOURCE_ROOT / "models"]
    return _existing(folders)
