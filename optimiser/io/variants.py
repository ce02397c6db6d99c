"""Savings models with some figures changed, built and checked by the model reader itself.

A variant is the model written back as the document a model file holds
(:func:`model_document`), its figures changed there, and read again by
:func:`~optimiser.io.model.parse_model`: every check a model file gets, a variant gets, and a
figure pushed out of its range (a capture above 1, a scale exponent of 0) is an InputError
naming the figure, never a silently odd model.

Factors multiply a figure wherever the model holds it (every depth's ``capture`` and
``one_off``, every function's ``scale_exponent``, ``coordination``, ``migration`` and
``per_capita``); settings replace one (``discount_rate``, ``horizon_years`` and the ``[risk]``
figures).

>>> from optimiser.io.model import load_model
>>> model = load_model("uk-central")
>>> varied = varied_model(model, factors={"capture": 0.5})
>>> [d.capture for d in varied.depths] == [d.capture * 0.5 for d in model.depths]
True
"""

from __future__ import annotations

import json
import math
import re

from ..errors import InputError
from .model import Risk, SavingsModel, parse_model

#: factors on figures every depth holds
DEPTH_FACTORS = ("capture", "one_off")
#: factors on figures every function holds
FUNCTION_FACTORS = ("scale_exponent", "coordination", "migration", "per_capita")
FACTORS = DEPTH_FACTORS + FUNCTION_FACTORS
#: settings that replace the model's own: [finance] and [risk] figures, as risk_* for [risk]
FINANCE_SETTINGS = ("discount_rate", "horizon_years")
RISK_SETTINGS = tuple(f"risk_{name}" for name in Risk.__dataclass_fields__)
SETTINGS = FINANCE_SETTINGS + RISK_SETTINGS


def model_document(model: SavingsModel) -> dict:
    """``model`` as the TOML document of a model file (``parse_model`` of it gives it back)."""
    return {
        "name": model.name,
        "title": model.title,
        "tiers": list(model.tiers),
        "finance": {"horizon_years": model.horizon_years, "discount_rate": model.discount_rate},
        # every function states its own rules, so [rules] only has to be valid
        "rules": {"max_size": 2, "geography": ["none"], "host_min_commitment": 0.0},
        "depths": [{"id": d.id, "capture": d.capture, "one_off": d.one_off, "min_commitment": d.min_commitment,
                    "common_platform": d.common_platform, "ramp": list(d.ramp)} for d in model.depths],
        "functions": [{"id": f.id, "title": f.title, "tiers": list(f.tiers), "per_capita": f.per_capita,
                       "scale_exponent": f.scale_exponent, "coordination": f.coordination, "migration": f.migration,
                       "max_size": f.max_size, "geography": [str(rule) for rule in f.geography],
                       "host_min_commitment": f.host_min_commitment, "sources": list(f.sources)} for f in model.functions],
        "risk": {name: getattr(model.risk, name) for name in Risk.__dataclass_fields__},
    }


def model_toml(model: SavingsModel) -> str:
    """``model`` as the text of a model file (what :func:`~optimiser.io.model.load_model` reads
    back as the same model): a scenario's variant kept beside its plan, for ``optimiser verify
    --model``."""
    document = model_document(model)
    lines = [f"{key} = {_toml(document[key])}" for key in ("name", "title", "tiers")]
    for table in ("finance", "rules", "risk"):
        lines += ["", f"[{table}]", *(f"{key} = {_toml(value)}" for key, value in document[table].items())]
    for table in ("depths", "functions"):
        for entry in document[table]:
            lines += ["", f"[[{table}]]", *(f"{key} = {_toml(value)}" for key, value in entry.items())]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a model figure is {value!r}")
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def varied_model(model: SavingsModel, factors: dict | None = None, settings: dict | None = None, *,
                 name: str | None = None, source: str = "model variant") -> SavingsModel:
    """``model`` with each figure named in ``factors`` multiplied by its factor and each named
    in ``settings`` replaced, read back by the model reader (an InputError naming ``source``
    and the figure when one leaves its range). ``name`` is the variant's name (default: the
    model's, with the changes)."""
    factors, settings = dict(factors or {}), dict(settings or {})
    for key in factors:
        if key not in FACTORS:
            raise InputError(source, f"'{key}' is not a figure a factor applies to (known: {', '.join(FACTORS)})")
    for key in settings:
        if key not in SETTINGS:
            raise InputError(source, f"'{key}' is not a model setting (known: {', '.join(SETTINGS)})")
    document = model_document(model)
    for key, factor in factors.items():
        for table in document["depths" if key in DEPTH_FACTORS else "functions"]:
            table[key] = table[key] * factor
    for key, value in settings.items():
        if key in FINANCE_SETTINGS:
            document["finance"][key] = value
        else:
            document["risk"][key.removeprefix("risk_")] = value
    if settings.get("horizon_years") is not None and "risk_exit_year" not in settings:
        # the exit year follows a shorter horizon, as the reader's default does
        document["risk"]["exit_year"] = min(model.risk.exit_year, max(1, int(settings["horizon_years"]) - 1))
    document["name"] = name or variant_name(model.name, factors, settings)
    label = f"{source} ({describe_changes(factors, settings)})"
    try:
        return parse_model(document, label)
    except InputError as exc:
        # name the depth or function whose figure left its range, as well as its place
        match = re.match(r"(depths|functions)\[(\d+)\]", exc.where or "")
        if not match:
            raise
        entry = document[match[1]][int(match[2])]
        kind = "depth" if match[1] == "depths" else "function"
        raise InputError(label, f"{exc.problem} ({kind} '{entry['id']}')", exc.where) from None


def describe_changes(factors: dict, settings: dict) -> str:
    """The changes as people read them: ``capture x0.8, discount_rate 0.05``."""
    parts = [f"{key} x{value:g}" for key, value in factors.items()]
    parts += [f"{key} {value:g}" for key, value in settings.items()]
    return ", ".join(parts) or "as it is"


def variant_name(base: str, factors: dict, settings: dict) -> str:
    """A variant's name: the model's, with what changed (the model itself when nothing did)."""
    changes = describe_changes(factors, settings)
    return base if not (factors or settings) else f"{base} ({changes})"
