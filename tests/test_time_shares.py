"""How a block's time under --time-limit is shared among its parts, driven by a clock of the
test's own (no wall clock): each part gets an even slice of what is left when it starts, the
smallest first, so that time a part leaves over goes to the parts after it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimiser.solve import clock, exact
from optimiser.solve.results import BlockBound, PartResult


class FakeClock:
    def __init__(self):
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


class Options:
    """Just enough of a CandidateSet for finish_block: a length and values."""

    def __init__(self, n: int):
        self.value = np.ones(n)

    def __len__(self) -> int:
        return len(self.value)


def block_of(parts: int, per_part: int = 3) -> BlockBound:
    cand = Options(parts * per_part)
    columns = [np.arange(p * per_part, (p + 1) * per_part) for p in range(parts)]
    return BlockBound(cand, "f", float(len(cand.value)), np.zeros(len(cand.value)), np.zeros(len(cand.value), dtype=bool),
                      np.arange(0, len(cand.value), per_part), tuple((c, float(per_part)) for c in columns), {}, lambda idx: [])


def shares(monkeypatch, parts: int, deadline: float, takes) -> list[float]:
    """The seconds each part is given when part p's work takes ``takes(p, seconds given)``."""
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    given = []

    def solve_part(problem, cand, columns, rc, in_lp, bound, incumbent, solver, remaining, cut_rows):
        seconds = remaining()
        given.append(seconds)
        fake.at += takes(len(given) - 1, seconds)
        return PartResult(columns[:1], "optimal", 1.0, 1.0)

    monkeypatch.setattr(exact, "solve_part", solve_part)
    exact.finish_block(None, block_of(parts), "highs", deadline)
    return given


def test_even_slices_of_what_is_left(monkeypatch):
    # 100 s for 4 parts, each using 10 s: 100/4, 90/3, 80/2, 70/1
    assert shares(monkeypatch, 4, 100.0, lambda p, s: 10.0) == pytest.approx([25, 30, 40, 70])


def test_a_part_that_uses_its_whole_slice_leaves_the_others_theirs(monkeypatch):
    assert shares(monkeypatch, 4, 100.0, lambda p, s: s) == pytest.approx([25, 25, 25, 25])


def test_time_a_quick_part_leaves_goes_to_the_parts_after_it(monkeypatch):
    assert shares(monkeypatch, 4, 100.0, lambda p, s: 0.0) == pytest.approx([25, 100 / 3, 50, 100])


def test_no_part_gets_less_than_the_least_a_mip_needs_while_the_run_has_time(monkeypatch):
    given = shares(monkeypatch, 10, 8.0, lambda p, s: 0.5)
    assert given[0] == pytest.approx(clock.MIN_MIP_SECONDS)  # not 0.8 s
    assert all(g <= 8.0 - 0.5 * p + 1e-9 for p, g in enumerate(given))  # never past the deadline


def test_no_limit_no_slices(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    assert clock.time_slice(None, 3, None) is None
    assert clock.seconds_to(None) is None
    fake.at = 40.0
    assert clock.seconds_to(100.0) == 60.0 and clock.seconds_to(30.0, at_least=0.5) == 0.5
    assert math.isclose(clock.time_slice(100.0, 3, 100.0), 60.0)
