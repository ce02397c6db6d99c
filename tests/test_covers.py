"""Cover cuts on the headroom rows (optimiser/solve/covers.py): a cut worked by hand, every cut
checked against every choice of one option per function of its council on random tiny
instances, and the exact method with the cuts against the exhaustive search on both solvers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optimiser.api import build
from optimiser.solve import covers
from optimiser.solve.relaxation import Relaxation
from randomized import brute_force, make_case
from test_property import METHODS, check_against_brute_force

COVER_SEEDS = range(71_000, 71_060)


pytestmark = pytest.mark.usefixtures("warnings_off")


def hand_row() -> covers.KnapsackRow:
    """Headroom 10. Function 0: options 0 (weight 6) and 1 (3); function 1: options 2 (5) and
    3 (2); function 2: option 4 (5.5)."""
    return covers.KnapsackRow(row=0, options=np.arange(5), weight=np.array([6.0, 3.0, 5.0, 2.0, 5.5]),
                              function=np.array([0, 0, 1, 1, 2]), need=10.0 + covers.MARGIN * 10.0, council=0)


def test_a_cover_cut_by_hand():
    row = hand_row()
    # the LP point loads the row with 0.9 x 6 + 0.1 x 3 + 0.7 x 5 + 0.3 x 2 = 9.8 <= 10, but any
    # plan with options 0 and 2 spends 11: the cover {0 at 6, 1 at 5}, k = 1, gives
    # x0 + x2 <= 1, broken by 0.6. (With 3 at 2 and 1 at 3 the thresholds would add to 5 or 8.)
    x = np.array([0.9, 0.1, 0.7, 0.3, 0.0])
    threshold, k = row.most_violated(x)
    assert (threshold, k) == ({0: 6.0, 1: 5.0}, 1)
    # lifting: neither threshold can drop (3 + 5 and 6 + 2 are <= 10), and function 2 joins at
    # 5.5, since any two of 6, 5 and 5.5 add up to more than 10: x0 + x2 + x4 <= 1
    lifted = row.lift(threshold, k)
    assert lifted == {0: 6.0, 1: 5.0, 2: 5.5}
    assert row.heavy(lifted).tolist() == [0, 2, 4]
    # a headroom of 11 fits options 0 and 2 exactly, and the point puts nothing on option 4: no
    # cover is broken then
    loose = covers.KnapsackRow(0, row.options, row.weight, row.function, 11.0 + covers.MARGIN * 11.0, 0)
    assert loose.most_violated(x) is None


def test_validity_is_the_sum_of_the_smallest_thresholds():
    assert covers.valid([6.0, 5.0, 5.5], 1, 10.0)
    assert not covers.valid([6.0, 4.0, 5.5], 1, 10.0)  # 4 + 5.5 fits
    assert covers.valid([6.0, 4.0, 5.5], 2, 10.0)  # all three do not
    assert covers.valid([1.0], 1, 0.0)  # fewer thresholds than k + 1: nothing to cut


def random_points(rng: np.random.Generator, row: covers.KnapsackRow, count: int) -> list[np.ndarray]:
    """LP-like points over the row's options: for each function, most of a council's weight on
    one or two of its options (so that covers are found), the rest spread."""
    points = []
    size = int(row.options.max()) + 1
    for _ in range(count):
        x = np.zeros(size)
        for f in np.unique(row.function):
            mine = row.options[row.function == f]
            picked = rng.choice(mine, size=min(len(mine), int(rng.integers(1, 3))), replace=False)
            x[picked] = rng.dirichlet(np.ones(len(picked))) * rng.uniform(0.5, 1.0)
        points.append(x)
    return points


@pytest.mark.parametrize("seed", COVER_SEEDS, ids=lambda s: f"cover{s}")
def test_every_cut_holds_for_every_choice_that_fits_the_headroom(tmp_path, seed):
    """A cut claims: no choice of at most one option per function holding the council, within its
    headroom (to the verifier's tolerance), has more than k heavy options. Checked by listing
    every such choice of the row's options."""
    case = make_case(seed, tmp_path, "finance", coupled=True)
    problem, cand = build(case.instance_dir, case.model_path, case.options.run_options())
    relaxation = Relaxation(problem, cand, list(range(len(problem.functions))))
    rng = np.random.default_rng(seed)
    for row in relaxation.knapsacks:
        headroom = float(relaxation.layout.upper[row.row])
        tolerance = 1e-6 * max(1.0, headroom)
        per_function = [np.flatnonzero(row.function == f) for f in np.unique(row.function)]
        choices = list(itertools.product(*[[-1, *positions] for positions in per_function]))
        for x in random_points(rng, row, 8):
            dense = np.zeros(len(cand))
            dense[row.options] = x[row.options]
            for cut in covers.separate(relaxation, [row], dense, set()):
                heavy = np.isin(row.options, cut.options)
                assert float(dense[cut.options].sum()) > cut.rhs  # the point breaks it
                for choice in choices:
                    taken = [p for p in choice if p >= 0]
                    if row.weight[taken].sum() <= headroom + tolerance:
                        assert heavy[taken].sum() <= cut.rhs, (seed, cut, choice)


@pytest.mark.parametrize("seed", COVER_SEEDS, ids=lambda s: f"cover{s}")
def test_optimal_with_cover_cuts(tmp_path, seed):
    case = make_case(seed, tmp_path, "finance", coupled=True)
    optimum = brute_force(case)
    for method, solver in METHODS:
        check_against_brute_force(case, optimum, method, solver, "finance")


def test_the_random_cases_do_get_cover_cuts(tmp_path):
    """The cases above are not all ones where no cover is ever separated: some of the exact
    method's LPs take cover cuts."""
    from optimiser.api import solve

    taken = 0
    for seed in COVER_SEEDS:
        case = make_case(seed, tmp_path / str(seed), "finance", coupled=True)
        plan = solve(case.instance_dir, case.model_path, case.options.run_options("exact", "highs"))
        taken += sum(block.get("cover_cuts", 0) for block in plan.stats.get("blocks", ()))
    assert taken > 0
