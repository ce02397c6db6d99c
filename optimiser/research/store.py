"""Finished scenarios on disk: ``DIR/scenarios/KEY/`` holds a scenario's plan.json (when it
has a plan), model.toml (when its model is a variant: ``optimiser verify INSTANCE plan.json
--model model.toml`` checks the plan) and its scenario.json (its values, figures and error).

Each scenario's files are written atomically (:func:`~optimiser.io.tables.write_atomically`),
scenario.json last: a scenario counts as finished exactly when its scenario.json is there and
reads back, so a sweep killed at any moment loses no finished scenario and trusts no
half-written one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..io.tables import write_atomically

log = logging.getLogger(__name__)

SCENARIOS = "scenarios"
RESULT = "scenario.json"
PLAN = "plan.json"
MODEL = "model.toml"


def folder(out: Path, key: str) -> Path:
    return Path(out) / SCENARIOS / key


def save(out: Path, result: dict) -> None:
    """Writes one scenario's result (plan.json first, scenario.json last, each atomically)."""
    files = {}
    if result.get("plan"):
        files[PLAN] = result["plan"]
    if result.get("model"):
        files[MODEL] = result["model"]
    record = {k: v for k, v in result.items() if k not in ("plan", "model")}
    files[RESULT] = json.dumps(record, indent=2, allow_nan=False, default=list) + "\n"
    write_atomically(folder(out, result["key"]), files)


def load(out: Path, key: str) -> dict | None:
    """The finished scenario ``key``'s record, or None when it has not finished."""
    path = folder(out, key) / RESULT
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # not ours to trust: the scenario is solved again
        log.warning("%s cannot be read (%s); the scenario is solved again", path, exc)
        return None
    if not isinstance(record, dict) or record.get("key") != key or "row" not in record:
        log.warning("%s is not this scenario's record; the scenario is solved again", path)
        return None
    return record


def finished(out: Path, keys) -> dict[str, dict]:
    """The records of the scenarios among ``keys`` that have finished."""
    found = {}
    for key in keys:
        record = load(out, key)
        if record is not None:
            found[key] = record
    return found
