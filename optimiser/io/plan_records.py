"""What plan.json's records hold: the partnerships' stable ids, and the shape of a file's
contents, checked before a plan is read from it (each record a plan is built from holds its
keys, with values of the right kind, so that a file edited by hand is one plain message
naming the key, not a failure further on)."""

from __future__ import annotations

import hashlib
import math

_TEXT, _TEXT_OR_NULL, _NUMBER, _CODES = "text", "text or null", "number", "list of council codes"
#: what every plan.json record must hold for the plan to be read: {key: kind}
PLAN_SHAPE = {"instance": _TEXT, "model": _TEXT}
PARTNERSHIP_SHAPE = {"id": _TEXT, "function": _TEXT, "members": _CODES, "host": _TEXT, "depth": _TEXT, "platform": _TEXT_OR_NULL,
                     "annual_saving": _NUMBER, "one_off_cost": _NUMBER, "npv": _NUMBER}
COUNCIL_SHAPE = {"code": _TEXT, "function": _TEXT, "partnership": _TEXT_OR_NULL, "baseline": _NUMBER, "npv_share": _NUMBER,
                 "annual_saving_share": _NUMBER, "one_off_share": _NUMBER}
TOTALS_SHAPE = {"npv": _NUMBER, "annual_saving": _NUMBER, "one_off_cost": _NUMBER, "baseline": _NUMBER}


def _found(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "text"
    if isinstance(value, (int, float)):
        return repr(value)
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _kind_problem(value, kind: str) -> str | None:
    if kind == _NUMBER:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"must be a number, found {_found(value)}"
    if kind == _TEXT:
        return None if isinstance(value, str) and value else f"must be text, found {_found(value)}"
    if kind == _TEXT_OR_NULL:
        return None if value is None or isinstance(value, str) else f"must be text or null, found {_found(value)}"
    ok = isinstance(value, list) and value and all(isinstance(c, str) and c for c in value)
    return None if ok else f"must be a list of council codes, found {_found(value)}"


def _record_problem(record, shape: dict, where: str) -> str | None:
    if not isinstance(record, dict):
        return f"{where}: must be an object, found {_found(record)}"
    for key, kind in shape.items():
        if key not in record:
            return f"{where}.{key}: missing" if where else f"{key}: missing"
        problem = _kind_problem(record[key], kind)
        if problem:
            return f"{where}.{key}: {problem}" if where else f"{key}: {problem}"
    return None


def shape_problem(data) -> str | None:
    """The first thing wrong with the shape of a plan.json's contents, as ``key: what is
    wrong`` (``partnerships[3].npv: must be a number, found null``); None when its records hold
    what a plan is read from."""
    if not isinstance(data, dict):
        return f"not a plan.json of this tool: it holds {_found(data)}, not an object"
    problem = _record_problem(data, PLAN_SHAPE, "")
    if problem:
        return problem
    for key in ("solver", "totals"):
        if not isinstance(data.get(key), dict):
            return f"{key}: must be an object, found {_found(data.get(key))}" if key in data else f"{key}: missing"
    problem = _record_problem(data["totals"], TOTALS_SHAPE, "totals")
    if problem:
        return problem
    if data.get("options") is not None and not isinstance(data["options"], dict):
        return f"options: must be an object, found {_found(data['options'])}"
    for key, shape in (("partnerships", PARTNERSHIP_SHAPE), ("councils", COUNCIL_SHAPE)):
        if not isinstance(data.get(key), list):
            return f"{key}: must be a list, found {_found(data.get(key))}" if key in data else f"{key}: missing"
        for k, record in enumerate(data[key]):
            problem = _record_problem(record, shape, f"{key}[{k}]")
            if problem:
                return problem
    return None


def partnership_id(function: str, members, taken=frozenset()) -> str:
    """The partnership's id: its function and a short hash of its sorted member codes, so the
    same group has the same id in every run (``legal-3f9a1c``); lengthened only in the unlikely
    case that another group of the plan already has it.

    >>> partnership_id("legal", ["E07000203", "E07000200"]) == partnership_id("legal", ["E07000200", "E07000203"])
    True
    """
    digest = hashlib.sha256(" ".join(sorted(members)).encode("utf-8")).hexdigest()
    for length in range(6, len(digest) + 1):
        pid = f"{function}-{digest[:length]}"
        if pid not in taken:
            return pid
    raise ValueError(f"two partnerships of {function} have the same members {sorted(members)}")
