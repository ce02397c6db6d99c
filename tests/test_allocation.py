"""The share rules of SPEC section 6 (optimiser.economics.allocation): hand-worked games, a
published nucleolus, properties on random games, and agreement with the verifier's own implementation.

Games are arrays of 2**n values indexed by bitmask: bit i set means player i is in the group.
Comments number the players from 1, as textbooks do; the code numbers them from 0.
"""

from __future__ import annotations

import math

import highspy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.verify import allocation as draft
from optimiser.economics import allocation as alloc
from optimiser.errors import InputError
from optimiser.highs import new_highs


def game(n: int, worth: dict[tuple[int, ...], float]) -> np.ndarray:
    """A game from {players (1-based): value}; every group not listed is worth 0."""
    values = np.zeros(2 ** n)
    for players, value in worth.items():
        values[sum(1 << (p - 1) for p in players)] = value
    return values


def random_game(seed: int, n: int, kind: str) -> np.ndarray:
    """Random games of several shapes; ties and degenerate cores are the point of most of them."""
    rng = np.random.default_rng(seed)
    sizes = np.array([bin(m).count("1") for m in range(2 ** n)])
    if kind == "normal":  # any values, singletons included
        values = rng.normal(size=2 ** n) * 1000
    elif kind == "ties":  # few distinct values: many equal excesses
        values = rng.integers(0, 4, size=2 ** n) * 1e6
    elif kind == "spec":  # as SPEC section 6 builds them: 0 below pairs, best NPV or 0
        values = np.maximum(0.0, rng.normal(0.5, 1.0, size=2 ** n)) * sizes * 1e5
        values[sizes < 2] = 0.0
    elif kind == "convex":  # (w(T))**2 is supermodular; adding sum of a_i over T keeps it so
        members = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        weights = np.ones(n) if rng.uniform() < 0.3 else rng.uniform(0.5, 2, size=n)
        values = 100 * (members @ weights) ** 2 + members @ rng.normal(size=n) * 10
    else:
        raise ValueError(kind)
    values[0] = 0.0
    return values


KINDS = ("normal", "ties", "spec", "convex")


def games_of(most: int):
    return st.tuples(st.integers(0, 2 ** 32 - 1), st.integers(2, most), st.sampled_from(KINDS)).map(
        lambda t: random_game(*t))


games = games_of(6)


def scale(values) -> float:
    return max(1.0, float(np.abs(values).max()))


def linprog(cost, rows, lower, upper, col_lower, col_upper):
    """min cost.z s.t. lower <= rows z <= upper, col_lower <= z <= col_upper; (objective, z)."""
    rows = np.asarray(rows, dtype=float)
    h = new_highs()
    h.addVars(len(cost), np.asarray(col_lower, float), np.asarray(col_upper, float))
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), np.asarray(cost, float))
    for row, lo, up in zip(rows, lower, upper):
        index = np.flatnonzero(row).astype(np.int32)
        h.addRow(lo, up, len(index), index, row[index])
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value, np.asarray(h.getSolution().col_value)


def cheapest_core_cover(values) -> float:
    """min sum x subject to x(T) >= v(T) for every proper non-empty T: the core is non-empty
    exactly when this is at most v(S)."""
    n = alloc.game_size(values)
    rows = [[m >> i & 1 for i in range(n)] for m in range(1, 2 ** n - 1)]
    inf = highspy.kHighsInf
    objective, _ = linprog(np.ones(n), rows, values[1:-1], np.full(len(rows), inf), np.full(n, -inf), np.full(n, inf))
    return objective


def balanced(masks, n) -> bool:
    """Whether the coalitions admit weights > 0 with sum of weight * indicator = 1 on every player."""
    k = len(masks)
    # max t s.t. sum_T d_T 1_T = 1, d_T - t >= 0, t <= 1
    rows = [[m >> i & 1 for m in masks] + [0] for i in range(n)] + [list(np.eye(k)[j]) + [-1] for j in range(k)]
    lower = [1.0] * n + [0.0] * k
    upper = [1.0] * n + [highspy.kHighsInf] * k
    inf = highspy.kHighsInf
    objective, _ = linprog(np.r_[np.zeros(k), -1.0], rows, lower, upper,
                           np.r_[np.full(k, -inf), -inf], np.r_[np.full(k, inf), 1.0])
    return -objective > 1e-9


def lexicographically_no_worse(a, b, tol) -> bool:
    """Whether the excesses a, sorted from the largest, are lexicographically <= those of b."""
    a, b = np.sort(a)[::-1], np.sort(b)[::-1]
    apart = np.flatnonzero(np.abs(a - b) > tol)
    return not len(apart) or a[apart[0]] < b[apart[0]]


# ---- hand-worked games ----------------------------------------------------------------------

def test_pair():
    pair = game(2, {(1, 2): 10})
    assert alloc.shapley(pair) == pytest.approx([5, 5])
    assert alloc.nucleolus(pair) == pytest.approx([5, 5])
    assert alloc.proportional(pair, [1, 3]) == pytest.approx([2.5, 7.5])
    # with values of its own, each gets it plus half the surplus 10 - 2 - 0 = 8
    lopsided = game(2, {(1,): 2, (1, 2): 10})
    assert alloc.nucleolus(lopsided) == pytest.approx([6, 4])
    assert alloc.shapley(lopsided) == pytest.approx([6, 4])


def test_symmetric_trio_splits_equally():
    trio = game(3, {(1, 2): 6, (1, 3): 6, (2, 3): 6, (1, 2, 3): 12})
    for rule, x in alloc.all_shares(trio, [1, 1, 1]).items():
        assert x == pytest.approx([4, 4, 4]), rule
    # excesses at (4, 4, 4): singletons 0 - 4 = -4, pairs 6 - 8 = -2
    assert alloc.core_excess(trio, [4, 4, 4]) == pytest.approx(-2)


def test_shapley_outside_a_core_of_one_point():
    # v(12) = v(13) = 10, v(23) = 0, v(123) = 10. Core: x1 + x2 >= 10 and x1 + x3 >= 10 with
    # x1 + x2 + x3 = 10 force x3 <= 0 and x2 <= 0, and x2, x3 >= v({i}) = 0: only (10, 0, 0).
    # Shapley, player 1 over the 6 orders: first 0 (twice), second 10 (after 2 or after 3),
    # last v(123) - v(23) = 10 (twice): (0+0+10+10+10+10)/6 = 20/3; players 2 and 3 split the
    # remaining 10/3 equally, 5/3 each. Its excess at {1,2}: 10 - (20/3 + 5/3) = 5/3 > 0.
    trio = game(3, {(1, 2): 10, (1, 3): 10, (1, 2, 3): 10})
    shares = alloc.all_shares(trio, [1, 1, 1])
    assert shares["shapley"] == pytest.approx([20 / 3, 5 / 3, 5 / 3])
    assert shares["nucleolus"] == pytest.approx([10, 0, 0], abs=1e-9)
    excess = alloc.core_excesses(trio, shares)
    assert excess["shapley"] == pytest.approx(5 / 3)
    assert excess["proportional"] == pytest.approx(10 / 3)  # (10/3 each): {1,2} gets 20/3 of its 10
    assert excess["nucleolus"] == pytest.approx(0, abs=1e-9)
    assert not alloc.is_stable(trio, shares["shapley"]) and alloc.is_stable(trio, shares["nucleolus"])
    assert cheapest_core_cover(trio) == pytest.approx(10)  # the core is not empty


@pytest.mark.parametrize("estate, published", [(100, [100 / 3] * 3), (200, [50, 75, 75]), (300, [50, 100, 150])])
def test_talmud_bankruptcy_nucleolus(estate, published):
    # Aumann and Maschler (1985), "Game theoretic analysis of a bankruptcy problem from the
    # Talmud": claims 100, 200, 300 on an estate E; v(T) = max(0, E - claims of those outside
    # T). The Talmud's divisions are the nucleolus of this game; the core is not empty, so the
    # prenucleolus is the same point.
    claims = [100, 200, 300]
    outside = [sum(c for i, c in enumerate(claims) if not m >> i & 1) for m in range(8)]
    values = np.maximum(0.0, estate - np.array(outside, float))
    assert alloc.nucleolus(values) == pytest.approx(published)
    assert draft.prenucleolus_shares(list(values)) == pytest.approx(published)


def test_glove_game_shapley():
    # one left glove (player 1), two right gloves: a pair is worth 1. Shapley (2/3, 1/6, 1/6).
    gloves = game(3, {(1, 2): 1, (1, 3): 1, (1, 2, 3): 1})
    assert alloc.shapley(gloves) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    assert draft.shapley_shares(list(gloves)) == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_one_player_and_zero_weights():
    alone = np.array([0.0, 7.0])
    for rule, x in alloc.all_shares(alone, [0]).items():
        assert x == pytest.approx([7]), rule
    assert alloc.core_excess(alone, [7]) == 0
    assert alloc.proportional(game(3, {(1, 2, 3): 9}), [0, 0, 0]) == pytest.approx([3, 3, 3])
    with pytest.raises(ValueError):
        alloc.shapley(np.zeros(6))


def test_rule_names():
    assert alloc.RULES == ("proportional", "shapley", "nucleolus")
    for rule in alloc.RULES:
        assert alloc.check_rule(rule) == rule
    with pytest.raises(InputError) as caught:
        alloc.check_rule("banzhaf")
    assert caught.value.source == "--shares"
    assert str(caught.value) == "--shares: unknown share rule 'banzhaf' (choose proportional, shapley or nucleolus)"


def test_batched_forms_match_one_game_at_a_time():
    stack = np.stack([random_game(seed, 4, kind) for seed, kind in enumerate(KINDS * 2)])
    weights = np.random.default_rng(0).uniform(0, 5, size=(len(stack), 4))
    weights[0] = 0.0
    for rule, fn in (("shapley", alloc.shapley), ("nucleolus", alloc.nucleolus)):
        together = fn(stack)
        assert together.shape == (len(stack), 4)
        for row, one in zip(together, stack):
            assert row == pytest.approx(fn(one), abs=1e-9 * scale(one)), rule
    together = alloc.proportional(stack, weights)
    for row, one, w in zip(together, stack, weights):
        assert row == pytest.approx(alloc.proportional(one, w), abs=1e-9 * scale(one))
    x = alloc.shapley(stack)
    assert alloc.core_excess(stack, x) == pytest.approx([alloc.core_excess(g, s) for g, s in zip(stack, x)],
                                                         abs=1e-9 * scale(stack))


def test_eight_members():
    values = random_game(8, 8, "spec")
    shares = alloc.all_shares(values, np.arange(1, 9))
    for rule, x in shares.items():
        assert x.sum() == pytest.approx(values[-1], abs=1e-9 * scale(values)), rule
    convex = random_game(8, 8, "convex")
    assert alloc.is_stable(convex, alloc.nucleolus(convex))
    assert alloc.is_stable(convex, alloc.shapley(convex))  # a convex game's Shapley value is in its core


# ---- properties on random games -------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(games, st.integers(0, 2 ** 32 - 1))
def test_every_rule_splits_exactly_the_value(values, seed):
    n = alloc.game_size(values)
    weights = np.random.default_rng(seed).uniform(0, 10, size=n)
    for rule, x in alloc.all_shares(values, weights).items():
        assert x.sum() == pytest.approx(values[-1], abs=1e-9 * scale(values)), rule


@settings(max_examples=40, deadline=None)
@given(games)
def test_symmetric_players_get_the_same(values):
    n = alloc.game_size(values)
    masks = np.arange(2 ** n)
    swapped = (masks & ~3) | ((masks & 1) << 1) | ((masks & 2) >> 1)
    symmetric = (values + values[swapped]) / 2  # players 1 and 2 interchangeable
    for x in (alloc.shapley(symmetric), alloc.nucleolus(symmetric)):
        assert x[0] == pytest.approx(x[1], abs=1e-8 * scale(values))


@settings(max_examples=40, deadline=None)
@given(games)
def test_null_player_gets_nothing_under_shapley(values):
    n = alloc.game_size(values)
    last = 1 << (n - 1)
    masks = np.arange(2 ** n)
    null = values[masks & ~last]  # the last player adds nothing to any group
    assert alloc.shapley(null)[-1] == pytest.approx(0, abs=1e-9 * scale(values))
    assert draft.shapley_shares(list(null))[-1] == pytest.approx(0, abs=1e-9 * scale(values))


@settings(max_examples=40, deadline=None)
@given(games, st.floats(0, 1))
def test_nucleolus_is_in_the_core_whenever_there_is_one(values, room):
    cover = cheapest_core_cover(values)
    if cover > values[-1]:
        # no core: give S just enough for one (room 0: a core of one point or a thin one)
        values = values.copy()
        values[-1] = cover + room * abs(cover)
    x = alloc.nucleolus(values)
    assert alloc.core_excess(values, x) <= 1e-7 * scale(values)


@settings(max_examples=60, deadline=None)
@given(games, st.integers(0, 2 ** 32 - 1))
def test_nucleolus_minimises_the_sorted_excesses(values, seed):
    n = alloc.game_size(values)
    x = alloc.nucleolus(values)
    mine = alloc.excesses(values, x)
    tol = 1e-7 * scale(values)
    others = [alloc.shapley(values), alloc.proportional(values, np.arange(1, n + 1))]
    rng = np.random.default_rng(seed)
    for size in (1e-4, 1e-2, 1.0):  # efficient moves away from x, small and large
        step = rng.normal(size=n) * size * scale(values)
        others.append(x + step - step.mean())
    for y in others:
        theirs = alloc.excesses(values, y)
        assert mine.max() <= theirs.max() + tol
        assert lexicographically_no_worse(mine, theirs, tol)


@settings(max_examples=25, deadline=None)
@given(games_of(5))
def test_nucleolus_passes_kohlbergs_criterion(values):
    # x is the prenucleolus iff every non-empty {T : e(T) >= alpha} is balanced (Kohlberg 1971)
    n = alloc.game_size(values)
    e = alloc.excesses(values, alloc.nucleolus(values))
    masks = alloc.subgroup_masks(n)
    tol = 1e-7 * scale(values)
    for level in np.unique(np.round(e / tol)) * tol:
        assert balanced(masks[e >= level - tol], n)


@settings(max_examples=30, deadline=None)
@given(games, st.floats(0.001, 1000), st.integers(0, 2 ** 32 - 1))
def test_rules_follow_a_change_of_units_and_of_standalone_values(values, factor, seed):
    # v'(T) = a v(T) + sum of c_i over T (a strategically equivalent game) moves the Shapley
    # value and the nucleolus to a x + c
    n = alloc.game_size(values)
    c = np.random.default_rng(seed).normal(size=n) * scale(values)
    moved = factor * values + alloc.membership(n) @ c
    for fn in (alloc.shapley, alloc.nucleolus):
        assert fn(moved) == pytest.approx(factor * fn(values) + c, abs=1e-7 * scale(moved))


# ---- the verifier's own implementation: a second implementation ------------------------------------------

@pytest.mark.parametrize("seed", range(24))
def test_engine_and_verifier_draft_agree(seed):
    n = 2 + seed % 5
    values = random_game(seed, n, KINDS[seed % len(KINDS)])
    weights = np.random.default_rng(seed).uniform(0, 5, size=n)
    engine = alloc.all_shares(values, weights)
    engine_excess = alloc.core_excesses(values, engine)
    shares, excess = draft.shares_and_excesses(list(values), list(weights))
    tol = 1e-6 * scale(values)
    for rule in alloc.RULES:
        assert engine[rule] == pytest.approx(shares[rule], abs=tol), rule
        assert engine_excess[rule] == pytest.approx(excess[rule], abs=tol), rule


def test_verifier_draft_shapley_by_orders_matches_the_subset_formula():
    for n in range(1, 8):
        values = random_game(n, n, "normal") if n > 1 else np.array([0.0, 3.0])
        assert draft.shapley_shares(list(values)) == pytest.approx(alloc.shapley(values), abs=1e-9 * scale(values))
        assert sum(draft.shapley_shares(list(values))) == pytest.approx(values[-1])
    assert math.isclose(draft.largest_excess([0.0, 4.0], [4.0]), 0.0)
