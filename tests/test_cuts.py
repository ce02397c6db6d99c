"""Divisibility cuts against brute force on small random set systems.

Every cut must hold for every packing (enumerated exhaustively), be broken by the LP point
it was separated from, and the separation MIP must find the most violated cut (checked
against every row subset).
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from optimiser.solve import cuts


def _random_system(rng: random.Random, rows: int, groups: int, width: int) -> np.ndarray:
    """`groups` distinct groups of 2..`width` of `rows` councils, or every such group if fewer exist."""
    largest = min(width, rows)
    groups = min(groups, sum(math.comb(rows, size) for size in range(2, largest + 1)))
    sets = set()
    while len(sets) < groups:
        size = rng.randint(2, largest)
        sets.add(tuple(sorted(rng.sample(range(rows), size))))
    table = np.full((len(sets), width), -1, dtype=np.int64)
    for line, members in enumerate(sorted(sets)):
        table[line, : len(members)] = members
    return table


def _lp_point(rows_of: np.ndarray, rows: int, rng: random.Random) -> np.ndarray:
    """An optimal vertex of max w x over the packing polytope, with random positive weights."""
    import highspy

    weights = np.array([rng.uniform(1.0, 2.0) * (line >= 0).sum() ** 1.5 for line in rows_of])
    lp = highspy.Highs()
    lp.setOptionValue("output_flag", False)
    lp.changeObjectiveSense(highspy.ObjSense.kMaximize)
    lp.addVars(len(rows_of), np.zeros(len(rows_of)), np.ones(len(rows_of)))
    lp.changeColsCost(len(rows_of), np.arange(len(rows_of), dtype=np.int32), weights)
    for r in range(rows):
        columns = np.flatnonzero((rows_of == r).any(axis=1)).astype(np.int32)
        lp.addRow(-highspy.kHighsInf, 1.0, len(columns), columns, np.ones(len(columns)))
    lp.run()
    return np.asarray(lp.getSolution().col_value)


def _packings(rows_of: np.ndarray):
    """Every set of pairwise disjoint groups, as 0/1 vectors."""
    members = [frozenset(line[line >= 0].tolist()) for line in rows_of]

    def extend(start: int, used: frozenset, chosen: list[int]):
        yield chosen
        for j in range(start, len(members)):
            if not members[j] & used:
                yield from extend(j + 1, used | members[j], chosen + [j])

    for chosen in extend(0, frozenset(), []):
        x = np.zeros(len(members))
        x[chosen] = 1.0
        yield x


def _lhs(cut: cuts.Cut, rows_of: np.ndarray, x: np.ndarray, rows: int) -> float:
    return float(cuts.coefficients(cut, rows_of, rows) @ x)


@pytest.mark.parametrize("seed", range(40))
def test_cuts_hold_for_every_packing_and_cut_off_the_lp_point(seed):
    rng = random.Random(seed)
    rows = rng.randint(5, 9)
    rows_of = _random_system(rng, rows, rng.randint(6, 18), rng.randint(3, 5))
    x = _lp_point(rows_of, rows, rng)
    found = cuts.separate(rows_of, x, rows, int((rows_of >= 0).sum(axis=1).max()), time_limit=5.0)
    packings = list(_packings(rows_of))
    for cut in found:
        assert _lhs(cut, rows_of, x, rows) > cut.rhs + cuts.VIOLATION / 2
        for plan in packings:
            assert _lhs(cut, rows_of, plan, rows) <= cut.rhs + 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_separation_finds_the_most_violated_cut(seed):
    rng = random.Random(1000 + seed)
    rows = rng.randint(4, 9)
    rows_of = _random_system(rng, rows, rng.randint(5, 15), rng.randint(3, 5))
    x = _lp_point(rows_of, rows, rng)
    support = x > 1e-9
    if not support.any():
        return
    for divisor in range(2, 5):
        best = 0.0
        for size in range(1, rows + 1):
            for chosen in itertools.combinations(range(rows), size):
                cut = cuts.Cut(np.array(chosen), divisor, float(size // divisor))
                best = max(best, _lhs(cut, rows_of, x, rows) - cut.rhs)
        found = cuts.most_violated(rows_of[support], x[support], divisor, time_limit=10.0)
        assert found is not None
        violation, chosen = found
        assert violation == pytest.approx(best, abs=1e-6)
        assert _lhs(cuts.Cut(chosen, divisor, float(len(chosen) // divisor)), rows_of, x, rows) - len(chosen) // divisor == pytest.approx(violation, abs=1e-9)


def test_coefficients_count_members_inside():
    rows_of = np.array([[0, 1, 2, -1], [2, 3, 4, 5], [5, 6, -1, -1]])
    cut = cuts.Cut(np.array([1, 2, 3, 4, 5]), 2, 2.0)
    assert cuts.coefficients(cut, rows_of, 7).tolist() == [1, 2, 0]


def test_a_fractional_tiling_of_seven_rows_by_sixes_is_cut():
    # seven rows, the seven 6-subsets at 1/6 each: every row covered once, and any plan holds
    # at most one 6-group, so the cut with R = all rows and k = 6 (rhs 1) is broken by 1/6
    rows_of = np.array([[r for r in range(7) if r != skip] for skip in range(7)])
    x = np.full(7, 1 / 6)
    violation, chosen = cuts.most_violated(rows_of, x, 6, time_limit=5.0)
    assert violation == pytest.approx(1 / 6)
    assert sorted(chosen.tolist()) == list(range(7))


def test_a_failing_separation_leaves_the_solve_exact(tmp_path, monkeypatch, caplog):
    """Cuts only tighten a proven bound: if separation fails, the solve goes on without them."""
    from optimiser.api import solve
    from optimiser.errors import SolveError
    from optimiser.problem import RunOptions
    from optimiser.verify import verify
    from test_exact import write_grid

    folder = write_grid(tmp_path / "grid", random.Random(31), 5, limits=False, locked=False)
    model = folder / "model.toml"
    expected = solve(folder, model, RunOptions(method="naive"))

    def fail(*args, **kwargs):
        raise SolveError("HiGHS failed on a cut separation MIP: test")

    monkeypatch.setattr(cuts, "most_violated", fail)
    plan = solve(folder, model, RunOptions(jobs=1))
    assert plan.status == expected.status == "optimal"
    assert plan.objective == pytest.approx(expected.objective, rel=1e-9)
    assert verify(folder, plan.data, model).ok
    assert any("no more divisibility cuts" in r.getMessage() for r in caplog.records)
