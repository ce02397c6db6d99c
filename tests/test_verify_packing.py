"""The verifier's packing LP by column generation against the whole LP solved at once."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pulp
import pytest

from optimiser.verify import packing


def whole_lp(rows: int, levels) -> float:
    problem = pulp.LpProblem("whole", pulp.LpMaximize)
    columns = [(float(v), tuple(int(i) for i in m)) for values, members in levels for v, m in zip(values, members)]
    x = [problem.add_variable(f"x{j}", lowBound=0, upBound=1) for j in range(len(columns))]
    problem.setObjective(pulp.lpSum(v * x[j] for j, (v, _) in enumerate(columns)))
    for i in range(rows):
        terms = [x[j] for j, (_, m) in enumerate(columns) if i in m]
        if terms:
            problem += pulp.lpSum(terms) <= 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        problem.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(problem.objective) or 0.0


def random_levels(rng: np.random.Generator, rows: int):
    levels = []
    for size in (2, 3, 4):
        sets = np.array(list(itertools.combinations(range(rows), size)), dtype=np.int64)
        keep = sets[rng.random(len(sets)) < 0.5]
        # values that grow faster than size, so that the LP is fractional and big groups compete
        values = rng.gamma(2.0, 1.0, len(keep)) * size**1.3 * 1e6
        levels.append((values, keep))
    return levels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("first,per_round", [(1, 1), (2, 3), (packing.FIRST_COLUMNS_PER_ROW, packing.COLUMNS_PER_ROUND_PER_ROW)])
def test_column_generation_reaches_the_whole_lps_optimum(monkeypatch, seed, first, per_round):
    # few columns a round: many rounds, so the stopping proof (not running out of columns) ends them
    monkeypatch.setattr(packing, "FIRST_COLUMNS_PER_ROW", first)
    monkeypatch.setattr(packing, "COLUMNS_PER_ROUND_PER_ROW", per_round)
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(5, 10))
    levels = random_levels(rng, rows)
    want = whole_lp(rows, levels)
    assert packing.packing_bound(rows, levels) == pytest.approx(want, rel=1e-7)


def test_no_columns_is_zero():
    assert packing.packing_bound(4, [(np.zeros(0), np.zeros((0, 2), dtype=np.int64))]) == 0.0
