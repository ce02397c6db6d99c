"""Who gains? Each chosen partnership as a cooperative game, split by the share rules of
SPEC §6, and the plan's stability: groups that would do better on their own.

The value of a subgroup T of a chosen partnership S is v(T): the largest NPV that T could
earn as a partnership of its own under the run's rules (over depth, host and platform), or 0
when T has fewer than two members, no option is feasible or the best NPV is not positive;
v(S) is S's NPV in the plan. Subgroups are evaluated with the engine's own vectorised
arithmetic, every subgroup of one size of every partnership of a function at once.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..candidates import evaluate_sets
from ..candidates.worth import GroupWorth, worth_of_groups
from ..candidates.evaluate import plain_worth
from ..economics import allocation
from ..plan import Stability
from ..errors import SolveError
from ..problem import Problem
from ..highs import new_highs
from ..processes import available_cores, map_in_workers
from ..rules.group import feasible_sets
from ..solve.workers import expected_work


log = logging.getLogger(__name__)


@lru_cache(maxsize=None)
def subsets_of_size(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every subset of ``size`` of n positions: (count, size) positions and their bitmasks."""
    positions = np.array(list(itertools.combinations(range(n), size)), dtype=np.int64).reshape(-1, size)
    masks = (1 << positions).sum(axis=1) if size else np.zeros(1, dtype=np.int64)
    return positions, masks


def best_npv(problem: Problem, k: int, sets: np.ndarray) -> np.ndarray:
    """The best NPV of each member set (g, s) as a partnership for function k under every rule
    of the run, or 0 where no option is feasible or none is positive."""
    sets = np.asarray(sets, dtype=np.int64)
    best = np.zeros(len(sets))
    if len(sets) == 0:
        return best
    ok = np.flatnonzero(feasible_sets(problem, k, sets))
    rows, values, _ = plain_worth(problem, k, sets[ok].astype(np.int32))
    best[ok[rows]] = values
    return best


def subgroup_values(problem: Problem, k: int, groups: list[np.ndarray], values_of_groups: list[float]) -> list[np.ndarray]:
    """v(T) for every T ⊆ S of each group S (sorted council indices) of function k, as arrays
    of length 2**|S| indexed by bitmask over S's members; v(S) is given (its NPV in the plan)."""
    games = [np.zeros(1 << len(members)) for members in groups]
    for size in range(2, max((len(m) for m in groups), default=0)):
        rows, slots = [], []
        for g, members in enumerate(groups):
            if len(members) > size:
                positions, masks = subsets_of_size(len(members), size)
                rows.append(np.asarray(members)[positions])
                slots.extend((g, int(mask)) for mask in masks)
        if rows:
            values = best_npv(problem, k, np.concatenate(rows))
            for (g, mask), value in zip(slots, values):
                games[g][mask] = value
    for game, value in zip(games, values_of_groups):
        game[-1] = value
    return games


@dataclass(frozen=True)
class PartnershipShares:
    """The three splits of one partnership's NPV and the largest excess under each."""

    partnership: str
    members: tuple[str, ...]
    shares: dict  # {rule: {code: pounds}}
    core_excess: dict  # {rule: pounds}


def partnership_shares(problem: Problem, plan) -> dict[str, PartnershipShares]:
    """Shares under every rule for every partnership of ``plan`` (a Plan of this problem's run)."""
    result = {}
    for k, function in enumerate(problem.functions):
        result.update(function_shares(problem, k, [(p.id, tuple(p.members), p.npv) for p in plan.partnerships
                                                   if p.function == function.id]))
    return result


def function_shares(problem: Problem, k: int, chosen: list[tuple[str, tuple, float]]) -> dict[str, PartnershipShares]:
    """Shares under every rule for the partnerships ``chosen`` of function k, each given as
    (id, member codes, NPV in the plan)."""
    if not chosen:
        return {}
    index = {c: i for i, c in enumerate(problem.codes)}
    groups = [np.array([index[c] for c in members]) for _, members, _ in chosen]
    games = subgroup_values(problem, k, groups, [npv for _, _, npv in chosen])
    result = {}
    for (pid, codes, _), members, game in zip(chosen, groups, games):
        splits = allocation.all_shares(game, problem.baseline[k, members])
        excess = allocation.core_excesses(game, splits)
        result[pid] = PartnershipShares(
            pid, tuple(codes),
            {rule: dict(zip(codes, map(float, x))) for rule, x in splits.items()},
            {rule: float(e) for rule, e in excess.items()},
        )
    return result


@dataclass(frozen=True)
class FunctionStability:
    """Groups that would rather break away, for one function under one share rule.

    A *blocking group* is a feasible group of SPEC §3 (with or without members in the plan)
    whose best NPV exceeds the sum of its members' shares by more than 1e-6 relative; a
    council alone has share 0.
    """

    function: str
    rule: str
    groups_checked: int
    blocking_groups: int
    largest_surplus: float  # pounds; 0 when nothing blocks
    largest_surplus_members: tuple[str, ...]


def blocking_tolerance(value: np.ndarray) -> np.ndarray:
    return allocation.STABLE_TOLERANCE * np.maximum(np.abs(value), 1.0)


def function_stability(problem: Problem, k: int, worth: GroupWorth, shares: np.ndarray, rule: str) -> FunctionStability:
    """Blocking groups of function k against its ``shares`` (pounds per council index) among
    every group the rules allow (``worth``: each one's worth on its own, not only the plan's
    candidates)."""
    count, largest, largest_members = 0, 0.0, ()
    for members, value, _ in worth.chunks:
        surplus = value - shares[members].sum(axis=1)
        blocking = surplus > blocking_tolerance(value)
        count += int(blocking.sum())
        if blocking.any():
            j = int(np.argmax(np.where(blocking, surplus, -np.inf)))
            if surplus[j] > largest:
                largest, largest_members = float(surplus[j]), tuple(sorted(problem.codes[i] for i in members[j]))
    return FunctionStability(problem.functions[k].id, rule, worth.feasible, count, largest, largest_members)


PRIMAL_SIMPLEX = 4  # HiGHS's simplex_strategy


def best_groups_of_each_council(members: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """A few of each council's best groups by value per member: for every council (of n) and
    every position j of the member rows, the best group with that council j-th (ties: the
    first). Every council's row starts with a good column, so the first LPs price it near its
    final dual."""
    order = np.argsort(-values / np.maximum((members >= 0).sum(axis=1), 1), kind="stable")
    rank = np.arange(len(order))
    picked = np.zeros(len(order), dtype=bool)
    for position in members[order].T:
        first = np.full(n + 1, len(order))  # the slot past the last council takes the padding
        np.minimum.at(first, np.where(position >= 0, position, n), rank)  # O(N): a sort would be O(N log N)
        picked[first[:n][first[:n] < len(order)]] = True
    return order[picked]


def packing_lp_bound(problem: Problem, k: int, worth: GroupWorth, locked: list[tuple[np.ndarray, float]],
                     start: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The LP relaxation of function k's own set-packing problem: maximise the sum of groups'
    best NPV x_G with every council in at most one group (fractionally) and every locked group
    in fully; by column generation in HiGHS (every group priced against the duals at once).

    Returns the bound and the enumeration positions of the groups that were columns of the
    last LP. The first LP holds the support of the solve's own LP over these groups where the
    solve recorded one (``worth.lp_support``: England's 15 LPs in a third of the time, measured
    against the start below); otherwise a few of each council's best groups and ``start`` (such
    positions, from a function with the same enumeration): functions of the same councils and
    rules have similar LPs, and (measured on England) one started from another's columns takes
    from an eighth to two thirds less time, a third on the median."""
    import highspy

    recorded, worth = worth, worth.chunks
    n = len(problem.codes)
    width = max([s.shape[1] for s, _, _ in worth] + [len(m) for m, _ in locked] + [2])
    members = [np.pad(s, ((0, 0), (0, width - s.shape[1])), constant_values=-1) for s, _, _ in worth]
    members += [np.pad(np.asarray(m)[None, :], ((0, 0), (0, width - len(m))), constant_values=-1) for m, _ in locked]
    members = np.concatenate(members) if members else np.zeros((0, width), dtype=np.int64)
    values = np.concatenate([v for _, v, _ in worth] + [np.array([v]) for _, v in locked]) if len(members) else np.zeros(0)
    positions = np.concatenate([p for _, _, p in worth]) if worth else np.zeros(0, dtype=np.int64)
    fixed = np.zeros(len(values), dtype=bool)
    fixed[len(values) - len(locked):] = True
    if len(values) == 0:
        return 0.0, positions
    highs = new_highs()
    # added columns leave the last basis primal feasible: primal simplex goes on from it
    # (measured on England's largest functions: 29% less time than the default dual simplex,
    # with the first columns below)
    highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.addRows(n, np.full(n, -highspy.kHighsInf), np.ones(n), 0, np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    in_lp = np.zeros(len(values), dtype=bool)
    # the member rows column by column, padding pointing at a dual of 0: a reduced cost is a
    # sum of slices (numpy sums a short last axis several times slower)
    member_columns = [np.where(column >= 0, column, n) for column in members.T]

    def add(columns: np.ndarray) -> None:
        rows = members[columns]
        counts = (rows >= 0).sum(axis=1)
        starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32)
        highs.addCols(len(columns), values[columns], np.where(fixed[columns], 1.0, 0.0), np.ones(len(columns)), int(counts.sum()),
                      starts, rows[rows >= 0].astype(np.int32), np.ones(int(counts.sum())))
        in_lp[columns] = True

    # a few columns per council at a time: an optimal basis holds at most one column a row, and
    # small rounds keep each warm-started LP small (measured: England's largest function's LP
    # in half the time of rounds that double the columns)
    per_round = 2 * n
    if recorded.lp_support is not None and len(recorded.lp_support):
        # the solve's own LP over these groups: its support is (nearly) this LP's (an empty one,
        # where limits across functions kept them all out, would leave HiGHS an empty LP)
        first, start = np.zeros(0, dtype=np.int64), recorded.lp_support
    else:
        first = best_groups_of_each_council(members, values, n)
    if start is not None and len(positions):  # positions ascend: the enumeration's order
        at = np.minimum(np.searchsorted(positions, start), len(positions) - 1)
        first = np.union1d(first, at[positions[at] == start])
    add(np.r_[np.flatnonzero(fixed), first[~fixed[first]]])
    while True:
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # a warm start that HiGHS cannot finish (seen on the largest functions): from scratch
            highs.clearSolver()
            highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolveError(f"HiGHS could not solve the LP bound of '{problem.functions[k].id}': "
                             f"{highs.modelStatusToString(highs.getModelStatus())}")
        objective = highs.getInfo().objective_function_value
        duals = np.r_[np.asarray(highs.getSolution().row_dual), 0.0]  # the last entry prices padding
        reduced = values - duals[member_columns[0]]
        for column in member_columns[1:]:
            reduced -= duals[column]
        entering = np.flatnonzero((reduced > 1e-9 * max(1.0, abs(objective))) & ~in_lp)
        if len(entering) == 0:
            return float(objective), positions[np.flatnonzero(in_lp[: len(positions)])]
        if len(entering) > per_round:  # the best of them, unordered: the LP does not care in what order
            entering = entering[np.argpartition(-reduced[entering], per_round)[:per_round]]
        add(entering)


def functions_figures(context: tuple, task: tuple) -> list[tuple[dict, Stability]]:
    """One share of :func:`with_shares`' work, in this process or a worker's: for each function
    k of ``task`` (functions whose groups are one enumeration, given as (k, its partnerships as
    (id, member codes, NPV), its groups' GroupWorth or None)), its partnerships' shares and its
    stability under ``rule``. Groups whose worth no solve recorded are priced here."""
    problem, rule = context
    index = {c: i for i, c in enumerate(problem.codes)}
    unpriced = [k for k, _, recorded in task if recorded is None]
    priced = dict(zip(unpriced, worth_of_groups(problem, unpriced))) if unpriced else {}
    figures = []
    columns = None  # of the last function's LP: its enumeration is this task's
    for k, chosen, recorded in task:
        worth = recorded if recorded is not None else priced[k]
        split = function_shares(problem, k, chosen)
        shares = np.zeros(len(problem.codes))
        for found in split.values():
            for code, value in found.shares[rule].items():
                shares[index[code]] = value
        found = function_stability(problem, k, worth, shares, rule)
        objective = float(sum(npv for _, _, npv in chosen))
        # a locked group is in every plan, at its best option whatever its NPV
        locked = [(group.members, float(evaluate_sets(problem, k, group.members[None, :].astype(np.int32), require_positive=False, plain=True).npv.max()))
                  for group in problem.locked if group.function_index == k and not group.grows]
        try:
            bound, columns = packing_lp_bound(problem, k, worth, locked, columns)
        except SolveError as exc:  # the plan stands without it; say so instead of failing the run
            log.warning("%s; its cost of stability is not reported", exc)
            bound = None
        figures.append((split, Stability(problem.functions[k].id, rule, found.groups_checked, found.blocking_groups,
                                         found.largest_surplus, found.largest_surplus_members, bound, objective,
                                         None if bound is None else max(0.0, bound - objective))))
    return figures


def share_tasks(problem: Problem, plan, worth: dict | None = None) -> list[tuple]:
    """The plan's functions as tasks for :func:`functions_figures`, the largest first: functions
    whose eligible councils and rules are the same share one enumeration, so one task.
    ``worth``: the GroupWorth a solve recorded, by function index."""
    tasks: dict[tuple, list] = {}
    for k, function in enumerate(problem.functions):
        key = (problem.eligible[k].tobytes(), function.geography, int(problem.max_size[k]))
        chosen = [(p.id, tuple(p.members), p.npv) for p in plan.partnerships if p.function == function.id]
        tasks.setdefault(key, []).append((k, chosen, (worth or {}).get(k)))
    return sorted(tasks.values(), key=lambda task: -expected_work(problem, [k for k, _, _ in task]))


#: the size of the enumeration left to do (``expected_work`` over the functions whose groups no
#: solve priced) from which the functions' shares and stability are shared among worker
#: processes: starting a worker costs about a second, which a region's whole stability (one or
#: two seconds in one process) does not repay, and a nation's (tens of seconds) does
PARALLEL_WORK = 50_000


def with_shares(problem: Problem, plan, *, stability: bool = True, worth: dict | None = None):
    """``plan`` with SPEC §6 added: every partnership's splits and core excesses, each
    council's ``npv_share`` under the run's rule (``options.shares``) and its ``transfer``
    against the proportional split, and (unless ``stability`` is false) every function's
    stability with its cost (the LP bound of the function's own set-packing problem minus the
    plan's NPV for it).

    ``worth`` (function index -> GroupWorth) is what the groups of some functions are worth
    on their own as this run's candidate generation recorded them
    (``CandidateGenerator(record_worth=True)``); the groups of the others are enumerated and
    priced here. Functions are independent: on a large run they are shared among worker
    processes (``options.jobs``, else one a core), as the solve's blocks are."""
    if plan.status == "infeasible":
        return plan
    rule = problem.options.shares
    if not stability:
        return with_splits(plan, partnership_shares(problem, plan), rule)
    tasks = share_tasks(problem, plan, worth)
    jobs = min(problem.options.jobs or available_cores(), len(tasks))
    # what repays a worker is enumerating and pricing groups: with their worth recorded by the
    # solve, a nation's functions take less time here than starting workers and sending them the groups
    unpriced = [k for task in tasks for k, _, recorded in task if recorded is None]
    if jobs >= 2 and expected_work(problem, unpriced) >= PARALLEL_WORK:
        log.info("shares and stability: %d functions in %d worker processes", len(problem.functions), jobs)
        done = map_in_workers("optimiser.analysis.shares:functions_figures", (problem, rule), tasks, jobs)
    else:
        done = [functions_figures((problem, rule), task) for task in tasks]
    split, found = {}, {}
    for figures in done:
        for shares, stability in figures:
            split.update(shares)
            found[stability.function] = stability
    return replace(with_splits(plan, split, rule), stability=tuple(found[function.id] for function in problem.functions))


def with_splits(plan, split: dict[str, PartnershipShares], rule: str):
    """``plan`` with each partnership's splits and core excesses from ``split``, and each
    council's ``npv_share`` under ``rule`` and its ``transfer`` against the proportional split."""
    partnerships = tuple(replace(p, shares=split[p.id].shares, core_excess=split[p.id].core_excess) for p in plan.partnerships)
    councils = []
    for row in plan.councils:
        if row.partnership is None:
            councils.append(row)
            continue
        shares = split[row.partnership].shares
        councils.append(replace(row, npv_share=shares[rule][row.code], transfer=shares[rule][row.code] - shares["proportional"][row.code]))
    return replace(plan, partnerships=partnerships, councils=tuple(councils))
