"""Candidate enumeration against brute force, and the option pruning rules."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import numpy as np
import pytest

from optimiser.candidates import enumerate_sets, evaluate_sets
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.problem import RunOptions, prepare

from test_exact import write_grid


def brute_force_sets(problem, k):
    """Every member set of function k that passes tier, size, geography and --apart, by itertools."""
    function = problem.functions[k]
    codes = problem.codes
    councils = problem.instance.councils
    eligible = np.flatnonzero(problem.eligible[k])
    graph = problem.instance.graph
    within = function.rule("within_km")
    found = set()
    for size in range(2, int(problem.max_size[k]) + 1):
        for members in itertools.combinations(eligible, size):
            if function.rule("contiguous") and not nx.is_connected(graph.subgraph(codes[i] for i in members)):
                continue
            if any(function.rule(kind) and councils[col].iloc[list(members)].nunique() > 1
                   for kind, col in (("same_region", "region"), ("same_county", "county"), ("same_nation", "nation"))):
                continue
            if within is not None and problem.distance_km[np.ix_(members, members)].max() > 2 * within.km:
                continue
            if any(a in members and b in members for a, b in problem.apart):
                continue
            found.add(tuple(int(i) for i in members))
    return found


@pytest.mark.parametrize("seed", range(6))
def test_enumeration_matches_brute_force(tmp_path, seed):
    rng = random.Random(seed)
    folder = write_grid(tmp_path / "g", rng, 4, limits=False, locked=False, max_size=rng.choice([3, 4]))
    instance = load_instance(folder)
    model = load_model(folder / "model.toml")
    apart = (("C11", "C12"),) if seed % 2 else ()
    problem = prepare(instance, model, RunOptions(apart=apart))
    for k in range(len(problem.functions)):
        levels = enumerate_sets(problem, k)
        got = [tuple(int(i) for i in row) for level in levels for row in level]
        assert len(got) == len(set(got)), "each set is produced once"
        assert set(got) == brute_force_sets(problem, k)


def test_enumeration_without_contiguity_matches_brute_force(tmp_path):
    folder = write_grid(tmp_path / "g", random.Random(3), 3, limits=False, locked=False, max_size=3)
    text = (folder / "model.toml").read_text().replace('geography = ["contiguous", ', 'geography = [')
    (folder / "model.toml").write_text(text)
    instance = load_instance(folder)
    problem = prepare(instance, load_model(folder / "model.toml"))
    for k in range(len(problem.functions)):
        got = {tuple(int(i) for i in row) for level in enumerate_sets(problem, k) for row in level}
        assert got == brute_force_sets(problem, k)


def test_kept_option_is_the_best_of_all_options(tmp_path):
    """Without budget or hosting limits each set keeps one option: the best of every feasible one."""
    folder = write_grid(tmp_path / "g", random.Random(5), 4, limits=False, locked=False)
    problem = prepare(load_instance(folder), load_model(folder / "model.toml"))
    for k in range(len(problem.functions)):
        for sets in enumerate_sets(problem, k):
            best = evaluate_sets(problem, k, sets, require_positive=False)
            every = evaluate_sets(problem, k, sets, require_positive=False, all_options=True)
            for row in range(len(sets)):
                mine = np.flatnonzero((every.members == sets[row]).all(axis=1))
                kept = np.flatnonzero((best.members == sets[row]).all(axis=1))
                if len(mine) == 0:
                    assert len(kept) == 0
                    continue
                assert len(kept) == 1
                assert best.npv[kept[0]] == pytest.approx(every.npv[mine].max(), rel=1e-12)
