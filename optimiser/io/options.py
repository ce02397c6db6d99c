"""Run options as people give them, made exact.

Two steps. :func:`coerce` turns what a caller passes (text from the command line, a string
where a list is meant, ``"CODE:FUNCTION"`` strings, ``"5m"`` for a budget) into the plain
types of :class:`~optimiser.problem.RunOptions`, with no instance needed. :func:`normalise`
then resolves them against an instance and a model: council and area names become codes,
function ids any case, ``COUNCIL:*`` and ``COUNCIL:ict,legal`` become one
``(code, function)`` pair each, so that plan.json records plain ``CODE:FUNCTION`` and
``CODE:CODE`` strings that any reader (the verifier too) understands. What is legal but
does nothing (a council outside the area, a function the council does not take part in)
is logged as a warning.

>>> coerce({"area": "Suffolk", "exclude": "Babergh:ict; Ipswich:*", "budget": "£5m"})["exclude"]
(('Babergh', 'ict'), ('Ipswich', '*'))
"""

from __future__ import annotations

import difflib
import logging

import numpy as np

from ..errors import InputError
from . import values
from .loans import loan_text
from .names import canonical_area, key, places_of, resolve_area

log = logging.getLogger("optimiser.options")

SOLVERS = ("highs", "cbc")
METHODS = ("exact", "naive")
OBJECTIVES = ("npv", "expected")
EXCLUDE_FORM = "COUNCIL:FUNCTION (e.g. E07000200:ict, 'Babergh:ict,legal' or 'Babergh:*')"
APART_FORM = "COUNCIL:COUNCIL (e.g. E07000200:E07000203 or 'Babergh:Mid Suffolk')"
LOCK_FORM = "FUNCTION:COUNCIL+COUNCIL[+...] (e.g. 'legal:Babergh+Mid Suffolk')"


def texts(value, option: str) -> tuple[str, ...]:
    """Text or a list of text, as a tuple (None: empty)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    try:
        items = tuple(value)
    except TypeError:
        raise InputError(option, f"'{value}' is not text or a list of text") from None
    for item in items:
        if not isinstance(item, str):
            raise InputError(option, f"'{item}' is not text (give names or codes as text)")
    return tuple(item.strip() for item in items if item.strip())


def pairs(value, option: str, form: str) -> tuple[tuple[str, str], ...]:
    """``"A:B"`` strings (several joined by ';'), (a, b) pairs, or a list of either."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    else:
        try:
            value = list(value)
        except TypeError:
            raise InputError(option, f"'{value}' is not {form}") from None
        if len(value) == 2 and all(isinstance(v, str) and ":" not in v for v in value):
            value = [tuple(value)]  # ("E07000200", "ict"): one pair
    found = []
    for item in value:
        if isinstance(item, str):
            for text in (t.strip() for t in item.split(";")):
                if not text:
                    continue
                left, sep, right = text.partition(":")
                if not sep or not left.strip() or not right.strip():
                    hint = f"; to take a council out of every function: --withdraw '{left.strip()}'" if (
                        option == "--exclude" and not sep) else ""
                    raise InputError(option, f"'{text}' is not {form}{hint}")
                found.append((left.strip(), right.strip()))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(v, str) and v.strip() for v in item):
            found.append((item[0].strip(), item[1].strip()))
        else:
            raise InputError(option, f"'{item}' is not {form}")
    return tuple(found)


def locks(value) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``lock``: partnerships every plan must hold as they are, as ``"FUNCTION:A+B"`` strings
    (several joined by ';') or (function, members) pairs."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if items is None:
        raise InputError("--lock", f"'{value}' is not {LOCK_FORM}")
    if len(items) == 2 and isinstance(items[0], str) and ":" not in items[0] and isinstance(items[1], (list, tuple)):
        items = [tuple(items)]
    found = []
    for item in items:
        if isinstance(item, str):
            for text in (t.strip() for t in item.split(";") if t.strip()):
                function, sep, members = text.partition(":")
                names = tuple(m.strip() for m in members.split("+") if m.strip())
                if not sep or not function.strip() or len(names) < 2:
                    raise InputError("--lock", f"'{text}' is not {LOCK_FORM}")
                found.append((function.strip(), names))
        elif (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)
              and isinstance(item[1], (tuple, list)) and all(isinstance(m, str) for m in item[1])):
            found.append((item[0].strip(), tuple(m.strip() for m in item[1])))
        else:
            raise InputError("--lock", f"'{item}' is not {LOCK_FORM}")
    return tuple(found)


def coerce(fields: dict) -> dict:
    """The fields of a RunOptions as plain types."""
    out = dict(fields)
    out["area"] = texts(fields.get("area"), "--area")
    out["functions"] = tuple(f.strip() for item in texts(fields.get("functions"), "--functions")
                             for f in item.replace(";", ",").split(",") if f.strip())
    out["exclude"] = pairs(fields.get("exclude"), "--exclude", EXCLUDE_FORM)
    out["apart"] = pairs(fields.get("apart"), "--apart", APART_FORM)
    out["seek"] = pairs(fields.get("seek"), "seek", EXCLUDE_FORM)
    out["lock"] = locks(fields.get("lock"))
    if fields.get("budget") is not None:
        out["budget"] = values.amount(fields["budget"], "--budget")
    if fields.get("time_limit") is not None:
        out["time_limit"] = values.duration(fields["time_limit"], "--time-limit")
    if fields.get("max_size") is not None:
        out["max_size"] = values.whole(fields["max_size"], "--max-size", low=2, what="a group size")
    if fields.get("jobs") is not None:
        out["jobs"] = values.whole(fields["jobs"], "--jobs", low=1, what="a number of processes")
    out["solver"] = values.choice(fields.get("solver", "highs"), "--solver", SOLVERS, "a solver")
    out["method"] = values.choice(fields.get("method", "exact"), "--method", METHODS, "a method")
    out["objective"] = values.choice(fields.get("objective", "npv"), "--objective", OBJECTIVES, "an objective")
    out["robust"] = values.flag(fields.get("robust", False), "--robust")
    out["keep_existing"] = values.flag(fields.get("keep_existing", False), "--keep-existing")
    out["loan"] = loan_text(fields.get("loan"))
    return out


def withdrawn(value) -> tuple[tuple[str, str], ...]:
    """``withdraw``: councils out of every function, as ``(council, "*")`` exclusions."""
    return tuple((council, "*") for council in texts(value, "--withdraw"))


# ---------------------------------------------------------------- against an instance and model


def function_id(model, text: str, option: str) -> str:
    """The id of the function ``text`` names (its id in any case, or its title)."""
    if text in model.function_ids:
        return text
    wanted = key(text).replace("-", " ")
    for f in model.functions:
        title = f.title or ""
        if wanted in (key(f.id).replace("-", " "), key(title), key(title.split("(")[0]), key(title.split(":")[0])):
            return f.id
    close = difflib.get_close_matches(text.lower(), list(model.function_ids), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f" (known: {', '.join(model.function_ids)})"
    raise InputError(option, f"model '{model.name}' has no function '{text}'{hint}")


def normalise(instance, model, options) -> dict:
    """``area``, ``functions``, ``exclude`` and ``apart`` of ``options`` as plan.json records
    them: codes, function ids and explicit (code, function) pairs, each once."""
    places = places_of(instance)
    functions = tuple(dict.fromkeys(function_id(model, f, "--functions") for f in options.functions))
    run = functions or tuple(model.function_ids)
    area = canonical_area(instance, options.area)
    in_area = resolve_area(instance, area)
    index = {c: i for i, c in enumerate(places.codes)}
    tiers = instance.councils["tier"].tolist()

    exclude: dict[tuple[str, str], None] = {}
    for left, right in options.exclude:
        for token in places.split(left):
            code = places.council(token, "--exclude/--withdraw" if right.strip() == "*" else "--exclude")
            who = places.describe(code)
            if not in_area[index[code]]:
                log.warning("--exclude: %s is outside the area; excluding it changes nothing", who)
            if right.strip() == "*":
                taken = [f for f in run if tiers[index[code]] in model.function(f).tiers]
                if not taken:
                    log.warning("--exclude: %s (a %s council) takes part in none of the run's functions", who, tiers[index[code]])
            else:
                taken = []
                for text in (t.strip() for t in right.replace(";", ",").split(",") if t.strip()):
                    fid = function_id(model, text, "--exclude")
                    f = model.function(fid)
                    if fid not in run:
                        log.warning("--exclude: '%s' is not one of the run's functions; excluding %s from it changes nothing", fid, who)
                    elif tiers[index[code]] not in f.tiers:
                        log.warning("--exclude: %s is a %s council and '%s' is for %s councils; there is nothing to exclude",
                                    who, tiers[index[code]], fid, ", ".join(f.tiers))
                    taken.append(fid)
            exclude.update(((code, fid), None) for fid in taken)

    apart: dict[tuple[str, str], None] = {}
    for left, right in options.apart:
        a, b = places.council(left, "--apart"), places.council(right, "--apart")
        if a == b:
            raise InputError("--apart", f"'{left}:{right}' names the same council twice ({places.describe(a)})")
        for code in (a, b):
            if not in_area[index[code]]:
                log.warning("--apart: %s is outside the area; keeping it apart changes nothing", places.describe(code))
        if (b, a) not in apart:
            apart[(a, b)] = None

    locked: dict[tuple[str, tuple[str, ...]], None] = {}
    for text, names in options.lock:
        fid = function_id(model, text, "--lock")
        members = tuple(sorted({places.council(name, "--lock") for name in names}, key=index.__getitem__))
        if len(members) < 2:
            raise InputError("--lock", f"'{text}:{'+'.join(names)}' needs two different councils")
        locked[(fid, members)] = None
    seek = tuple(dict.fromkeys((places.council(c, "seek"), function_id(model, f, "seek")) for c, f in options.seek))
    return {"area": area, "functions": functions, "exclude": tuple(exclude), "apart": tuple(apart), "lock": tuple(locked),
            "seek": seek}


def eligible_count(instance, model, fid: str, mask: np.ndarray | None = None) -> int:
    """Councils of ``instance`` (within ``mask``) that take part in function ``fid``."""
    tiers = instance.councils["tier"].to_numpy()
    keep = np.isin(tiers, list(model.function(fid).tiers))
    return int((keep & mask).sum() if mask is not None else keep.sum())
