"""What if a council leaves? (SPEC §5) For every partnership of a plan that the council
belongs to: whether the others carry on, what the partnership is then worth, what each
remaining member loses and the exit fee that would keep them whole; and the plan repaired,
solved again with the council out of those functions and every other partnership kept.

The partnership's own figures follow the withdrawal arithmetic of
:mod:`optimiser.candidates.withdrawal` (the council leaves at the end of the model's exit
year; the one-off cost is sunk). The repaired plan is a fresh plan over the whole horizon,
as the engine values every plan, so its gain over simply carrying on is a comparison of two
plans, not a cash flow after the exit.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from ..candidates.withdrawal import departure
from ..errors import InputError
from ..io.names import places_of
from ..plan import Plan
from ..problem import Problem, RunOptions, prepare
from .repair import repair

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exit:
    """One partnership of the plan when the council leaves it."""

    id: str
    function: str
    members: tuple[str, ...]
    host: str
    npv: float  # NPV(S), as planned
    npv_after: float  # NPV(S -> S without the council)
    continues: bool
    host_after: str | None  # who leads the survivors (None when the partnership ends)
    annual_after: float  # the survivors' yearly net saving after the exit year
    losses: dict  # {member: its baseline share of NPV(S) minus its share of npv_after}
    exit_fee: float  # the sum of the losses, at least 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"members": list(self.members)}


@dataclass(frozen=True)
class Withdrawal:
    """What one council's leaving does to a plan, and the plan repaired."""

    council: str
    name: str
    exit_year: int
    exits: tuple[Exit, ...]
    continuing_npv: float  # the plan's NPV if the others simply carry on (or end)
    repaired: Plan | None  # None when the council is in no partnership, or bound by a lock
    committed: tuple[str, ...] = ()  # locked partnerships it belongs to: no plan can leave them

    @property
    def gain_of_repair(self) -> float | None:
        return None if self.repaired is None else self.repaired.totals.npv - self.continuing_npv

    def to_dict(self) -> dict:
        repaired = None
        if self.repaired is not None:
            r = self.repaired
            repaired = {"status": r.status, "gap": r.solver.gap, "npv": r.totals.npv, "expected_npv": r.totals.expected_npv,
                        "objective": r.objective, "partnerships": len(r.partnerships), "gain_of_repair": self.gain_of_repair}
        return {"council": self.council, "name": self.name, "exit_year": self.exit_year,
                "partnerships": [e.to_dict() for e in self.exits], "continuing_npv": self.continuing_npv, "repaired": repaired,
                "committed_to_locked": list(self.committed)}


def council_code(problem: Problem, plan: Plan, text: str) -> str:
    """The code of the council ``text`` names (code or name), which must take part in the plan's run."""
    code = places_of(problem.instance).council(text, "council")
    if code not in {c.code for c in plan.councils}:
        names = problem.instance.councils.set_index("code")["name"]
        name = names.get(code, code)
        if not problem.in_area[problem.codes.index(code)]:
            area = "; ".join(names.get(a, a) for a in plan.options.area)
            raise InputError("council", f"{name} ({code}) is outside the plan's area ({area}), so it has nothing to leave")
        raise InputError("council", f"{name} ({code}) takes part in none of the plan's functions, so it has nothing to leave")
    return code


def exits_of(problem: Problem, plan: Plan, code: str) -> list[Exit]:
    """Each partnership of ``plan`` that ``code`` belongs to, when it leaves."""
    index = {c: i for i, c in enumerate(problem.codes)}
    function_of = {f.id: k for k, f in enumerate(problem.functions)}
    depth_of = {d.id: n for n, d in enumerate(problem.model.depths)}
    found = []
    for p in plan.partnerships:
        if code not in p.members:
            continue
        k = function_of[p.function]
        members = np.array(sorted(index[c] for c in p.members))
        after = departure(problem, k, members, index[p.host], depth_of[p.depth], p.annual_saving, p.one_off_cost, {index[code]})
        baseline = problem.baseline[k]
        before_total = float(baseline[members].sum())
        after_total = float(baseline[list(after.survivors)].sum())
        losses = {}
        for i in after.survivors:
            share_before = baseline[i] / before_total if before_total > 0 else 1.0 / len(members)
            share_after = baseline[i] / after_total if after_total > 0 else 1.0 / len(after.survivors)
            losses[problem.codes[i]] = float(share_before * p.npv - share_after * after.npv)
        found.append(Exit(p.id, p.function, tuple(p.members), p.host, p.npv, after.npv, after.continues,
                          None if after.host is None else problem.codes[after.host], after.annual_after, losses,
                          max(0.0, sum(losses.values()))))
    return found


def repair_options(plan: Plan, code: str, exits: list[Exit]) -> RunOptions:
    """The plan's run with the council out of the functions it leaves and every partnership
    without it locked (``lock``), so that the repaired plan records how it was made."""
    left = tuple((code, e.function) for e in exits)
    kept = tuple((p.function, tuple(p.members)) for p in plan.partnerships if code not in p.members)
    return dataclasses.replace(plan.options, exclude=tuple(dict.fromkeys(plan.options.exclude + left)),
                               lock=tuple(dict.fromkeys(plan.options.lock + kept)))


def withdraw(problem: Problem, plan: Plan, text: str, solve_run) -> Withdrawal:
    """What the council ``text`` names leaving does to ``plan`` (solved on ``problem``'s run),
    with the plan repaired (:func:`optimiser.analysis.repair.repair`, or where that cannot
    settle it, ``solve_run(instance, model, options)`` solving the repaired run in full)."""
    code = council_code(problem, plan, text)
    name = str(problem.instance.councils.set_index("code")["name"][code])
    exits = exits_of(problem, plan, code)
    if not exits:
        return Withdrawal(code, name, problem.model.risk.exit_year, (), plan.totals.npv, None)
    continuing = sum(p.npv for p in plan.partnerships if code not in p.members) + sum(e.npv_after for e in exits)
    committed = tuple(f"{g.partnership.id} ({g.partnership.function})" for g in problem.locked
                      if problem.codes.index(code) in g.members)
    if committed:  # every plan must hold a locked partnership: there is no plan without the council in it
        return Withdrawal(code, name, problem.model.risk.exit_year, tuple(exits), continuing, None, committed)
    options = repair_options(plan, code, exits)
    run = prepare(problem.instance, problem.model, options)
    function_of = {f.id: k for k, f in enumerate(run.functions)}
    seeds = {function_of[e.function]: [run.codes.index(c) for c in e.members if c != code] for e in exits}
    repaired = repair(run, plan, seeds)
    if repaired is None:
        log.info("the repair needs the whole run solved again")
        repaired = solve_run(problem.instance, problem.model, options)
    log.info("%s leaves %d partnerships; repaired plan NPV %.0f against %.0f carrying on", code, len(exits),
             repaired.totals.npv, continuing)
    return Withdrawal(code, name, problem.model.risk.exit_year, tuple(exits), continuing, repaired)


def plan_problem(instance, model, plan: Plan) -> Problem:
    """The run a plan was solved on, prepared again."""
    return prepare(instance, model, plan.options)
