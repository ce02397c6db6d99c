"""The options of a run (:class:`RunOptions`), each checked as it is given: what the command
line offers under the same names and what plan.json records."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, replace

from ..errors import InputError
from . import options as option_values
from .instance import Instance
from .model import SavingsModel

SOLVERS = option_values.SOLVERS
METHODS = option_values.METHODS
OBJECTIVES = option_values.OBJECTIVES
SHARE_RULES = ("proportional", "shapley", "nucleolus")


def check_share_rule(name: str) -> str:
    """``name`` if it is one of the share rules of SPEC §6, else the ``--shares`` InputError."""
    if name not in SHARE_RULES:
        raise InputError("--shares", f"unknown share rule '{name}' (choose proportional, shapley or nucleolus)")
    return name


@dataclass(frozen=True)
class RunOptions:
    """The options of a run; the command line offers each under the same name."""

    area: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    budget: float | None = None
    exclude: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    solver: str = "highs"
    time_limit: float | None = None
    method: str = "exact"
    max_size: int | None = None
    jobs: int | None = None  # worker processes for independent blocks (None: one per core)
    shares: str = "proportional"  # the share rule each council's npv_share follows (SPEC §6)
    objective: str = "npv"  # npv, or expected: what the plan maximises (SPEC §5)
    robust: bool = False  # only partnerships that survive any one member leaving (SPEC §5)
    #: partnerships every plan must hold with exactly these members, as (function, codes): like
    #: locked existing partnerships (``withdraw`` keeps a plan's other partnerships so)
    lock: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: every existing partnership's members stay together in its function (it may grow and
    #: change depth, host and platform), the set-up cost its members paid sunk
    keep_existing: bool = False
    #: (council, function) pairs that will join but not host (a ``seek`` listing of ``match``)
    seek: tuple[tuple[str, str], ...] = ()
    #: ``RATE:YEARS:KIND``: a loan financing every partnership's one-off cost (SPEC §8)
    loan: str | None = None

    def __post_init__(self) -> None:
        # what people pass (text, a string for a list, "CODE:FUNCTION", "5m") as plain types,
        # each checked: an InputError names the option
        for name, value in option_values.coerce(self.__dict__).items():
            object.__setattr__(self, name, value)
        check_share_rule(self.shares)

    @classmethod
    def create(cls, **given) -> "RunOptions":
        """RunOptions from keyword arguments as a caller writes them: any option as text or
        a Python value, a string or a list for ``area``, ``functions``, ``exclude`` and
        ``apart``, and ``withdraw`` (councils out of every function). An unknown keyword is
        an InputError naming it.

        >>> RunOptions.create(area="Suffolk", budget="750k", withdraw="Ipswich").exclude
        (('Ipswich', '*'),)
        """
        withdraw = option_values.withdrawn(given.pop("withdraw", None))
        known = cls.__dataclass_fields__
        for name in given:
            if name not in known:
                close = difflib.get_close_matches(name, list(known) + ["withdraw"], n=1)
                hint = f"; did you mean {close[0]}?" if close else f" (options: {', '.join([*known, 'withdraw'])})"
                raise InputError(name, f"unknown run option{hint}")
        if withdraw:
            given["exclude"] = option_values.pairs(given.get("exclude"), "--exclude", option_values.EXCLUDE_FORM) + withdraw
        return cls(**given)

    def resolved(self, instance: Instance, model: SavingsModel) -> "RunOptions":
        """These options against ``instance`` and ``model``: names resolved to codes,
        wildcards expanded (see :mod:`optimiser.io.options`); what plan.json records."""
        return replace(self, **option_values.normalise(instance, model, self))

    def to_dict(self) -> dict:
        """The options as plan.json records them; ``jobs`` is left out: it changes how fast a
        plan is found, never which plan is optimal."""
        data = asdict(self)
        del data["jobs"]
        data["exclude"] = [f"{c}:{f}" for c, f in self.exclude]
        data["apart"] = [f"{a}:{b}" for a, b in self.apart]
        data["lock"] = [f"{f}:{'+'.join(members)}" for f, members in self.lock]
        data["seek"] = [f"{c}:{f}" for c, f in self.seek]
        data["area"] = list(self.area)
        data["functions"] = list(self.functions)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RunOptions":
        data = dict(data)
        data["area"] = tuple(data.get("area") or ())
        data["functions"] = tuple(data.get("functions") or ())
        data["exclude"] = tuple(tuple(x.split(":", 1)) for x in data.get("exclude") or ())
        data["apart"] = tuple(tuple(x.split(":", 1)) for x in data.get("apart") or ())
        data["seek"] = tuple(tuple(x.split(":", 1)) for x in data.get("seek") or ())
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
