"""Where a plan came from: the package version, when it was made, the savings model in full
(its TOML text, so the plan carries its own model) and a fingerprint of the instance's files.

plan.json keeps this under ``provenance``. A later command that reads the plan with no
``--model`` rebuilds the model from the embedded text (:func:`model_from_plan`), validated like
any model file, and says in one warning when the instance's files no longer hash as recorded
(:func:`instance_drift`). Provenance is never trusted for a figure: it only says which model
to check a plan against.

The instance's fingerprint is a sha256 over its files taken in name order, each file's own
sha256 beside its name, so it does not depend on the order the files are found in:

>>> combined_digest({"b.csv": "22", "a.csv": "11"}) == combined_digest({"a.csv": "11", "b.csv": "22"})
True
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..errors import InputError
from .instance import Instance
from .model import SavingsModel, load_model, parse_model
from ..version import __version__
from .tables import parse_toml, read_text
from .variants import model_toml

#: where in plan.json the embedded model's text is: named in every message about it
MODEL_TEXT_KEY = "provenance.model.toml"


@dataclass(frozen=True)
class Provenance:
    """Where a plan came from, as plan.json's ``provenance`` holds it: the package ``version``,
    when it was ``created`` (UTC, ISO 8601), the savings ``model`` in full ({name, path, sha256,
    toml}) and the ``instance`` ({name, path, sha256 over its files, files: {name: sha256}})."""

    version: str
    created: str
    model: Mapping
    instance: Mapping

    def __post_init__(self):
        for name in ("model", "instance"):
            if not isinstance(getattr(self, name), Mapping):
                raise TypeError(f"provenance.{name} must be an object")
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @classmethod
    def of(cls, instance: Instance, model: SavingsModel, when: datetime | None = None) -> "Provenance":
        """The provenance of a plan made now (or at ``when``) from ``instance`` and ``model``."""
        return cls(**provenance_record(instance, model, __version__, when))

    @classmethod
    def from_dict(cls, data: Mapping) -> "Provenance":
        """From plan.json's ``provenance``; a KeyError or TypeError when a part is missing or malformed."""
        if not isinstance(data, Mapping):
            raise TypeError("provenance must be an object")
        return cls(data["version"], data["created"], data["model"], data["instance"])

    def to_dict(self) -> dict:
        return {"version": self.version, "created": self.created, "model": _plain(self.model), "instance": _plain(self.instance)}


def _frozen(value):
    return MappingProxyType({k: _frozen(v) for k, v in value.items()}) if isinstance(value, Mapping) else value


def _plain(value):
    return {k: _plain(v) for k, v in value.items()} if isinstance(value, Mapping) else value


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def combined_digest(file_digests: Mapping[str, str]) -> str:
    """One sha256 over ``{file name: its sha256}``, the names in sorted order."""
    lines = "".join(f"{name}\0{file_digests[name]}\n" for name in sorted(file_digests))
    return sha256_text(lines)


def instance_files(instance: Instance) -> dict[str, Path]:
    """The files an instance is read from ({name relative to its folder: path}): instance.toml
    and every table it names."""
    folder = Path(instance.folder)
    paths = [folder / "instance.toml", *instance.files.values()]
    named = {}
    for path in paths:
        try:
            name = path.resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:  # a table kept outside the folder: named by its own path
            name = path.as_posix()
        named[name] = path
    return named


def file_digests(instance: Instance) -> dict[str, str]:
    """{file name: sha256 of its bytes} for the instance's files that exist, names sorted."""
    found = instance_files(instance)
    return {name: sha256_bytes(found[name].read_bytes()) for name in sorted(found) if found[name].is_file()}


def instance_record(instance: Instance) -> dict:
    digests = file_digests(instance)
    return {"name": instance.name, "path": str(Path(instance.folder).resolve()), "sha256": combined_digest(digests), "files": digests}


def model_record(model: SavingsModel) -> dict:
    """The model as provenance keeps it: its name, the file it was read from (None for a model
    built in memory) and the model's TOML text with its sha256: the file's own text, or for a
    model built in memory the text of a model file that reads back as it."""
    text = model.text
    if text is None and model.path is not None and Path(model.path).is_file():
        text = read_text(Path(model.path))
    if text is None:
        # a model built in memory (a sweep's variant, one made in code) is kept as the text of
        # the model file that reads back as it, so its plans verify without it
        text = model_toml(model)
    return {"name": model.name, "path": str(Path(model.path).resolve()) if model.path is not None else None,
            "sha256": sha256_text(text) if text is not None else None, "toml": text}


def provenance_record(instance: Instance, model: SavingsModel, version: str, when: datetime | None = None) -> dict:
    """What provenance records for a plan made now (or at ``when``) from ``instance`` and ``model``."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {"version": version, "created": when.isoformat(timespec="seconds"), "model": model_record(model),
            "instance": instance_record(instance)}


def embedded_model(data: Mapping, source: str) -> SavingsModel | None:
    """The model whose TOML text the plan ``data`` (read from ``source``) embeds, validated like
    a model file; None for a plan with no provenance or no embedded text (an older plan).
    A text that does not match its recorded sha256, or is not a valid model, is an InputError
    naming ``source`` and the key."""
    provenance = data.get("provenance")
    if provenance is None:
        return None
    if not isinstance(provenance, Mapping) or not isinstance(provenance.get("model"), Mapping):
        raise InputError(source, "must be an object with a 'model' object", "provenance")
    record = provenance["model"]
    text = record.get("toml")
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError(source, f"must be the model's TOML text, found {type(text).__name__}", MODEL_TEXT_KEY)
    if record.get("sha256") != sha256_text(text):
        raise InputError(source, "the embedded model does not match its recorded sha256 (provenance.model.sha256): "
                                 "the plan has been edited; pass --model to choose the model", MODEL_TEXT_KEY)
    document = parse_toml(text, source, MODEL_TEXT_KEY)
    try:
        model = dataclasses.replace(parse_model(document, source), text=text)
    except InputError as exc:
        where = f"{MODEL_TEXT_KEY}: {exc.where}" if exc.where else MODEL_TEXT_KEY
        raise InputError(source, exc.problem, where) from None
    named = data.get("model")
    if isinstance(named, str) and named != model.name:
        raise InputError(source, f"the embedded model is named '{model.name}', but the plan names model '{named}'", MODEL_TEXT_KEY)
    return model


def model_from_plan(data: Mapping, source: str, instance: Instance, model=None) -> SavingsModel:
    """The model to read a plan with: ``model`` (a SavingsModel, name or path) when given, else
    the plan's embedded model, else (an older plan) the model it names, found as any model
    name is (beside the instance, then the shipped models), else the instance's default."""
    if isinstance(model, SavingsModel):
        return model
    if model is not None:
        return load_model(model, near=instance.folder)
    embedded = embedded_model(data, source)
    if embedded is not None:
        return embedded
    ref = data.get("model")
    if not isinstance(ref, str) or not ref.strip():
        ref = instance.model_ref
    if ref is None:
        raise InputError(source, f"names no model, and instance '{instance.name}' has no default model; pass --model", "model")
    return load_model(ref, near=instance.folder)


def instance_drift(data: Mapping, instance: Instance, source: str) -> str | None:
    """One plain sentence when the instance's files no longer hash as the plan ``data``
    records (which files changed, appeared or went), or None when they do (or the plan
    records no fingerprint)."""
    provenance = data.get("provenance")
    record = provenance.get("instance") if isinstance(provenance, Mapping) else None
    if not isinstance(record, Mapping) or not isinstance(record.get("sha256"), str):
        return None
    now = file_digests(instance)
    if combined_digest(now) == record["sha256"]:
        return None
    then = record.get("files") if isinstance(record.get("files"), Mapping) else {}
    changed = sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))
    which = f" ({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''})" if changed else ""
    return (f"{source}: the instance's files no longer match the ones this plan was made from{which}; "
            f"it may have been made from other data; the files of '{instance.folder}' as they are now are used")
