"""The exact method against the naive one on medium instances, and honesty under a time limit.

Medium instances are jittered grids of 20-40 councils with random tiers, commitments,
spend, platforms, locked groups and limits that tie functions together (max_partnerships,
max_hosted, a budget). Both methods must reach the same optimum, and both plans verify.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest

from optimiser.api import solve
from optimiser.problem import RunOptions
from optimiser.verify import verify

MODEL = """
name = "grid"
tiers = ["district", "unitary"]
[finance]
horizon_years = 10
discount_rate = 0.035
[rules]
max_size = {max_size}
geography = ["contiguous", "within_km:{km}", "same_nation"]
host_min_commitment = 0.5
[[depths]]
id = "shared-management"
capture = 0.3
one_off = 0.05
min_commitment = 0.0
[[depths]]
id = "standardised"
capture = 1.0
one_off = 0.2
min_commitment = 0.6
common_platform = true
[[functions]]
id = "back-office"
tiers = ["district", "unitary"]
per_capita = 20.0
scale_exponent = 0.8
coordination = 0.03
migration = 0.3
[[functions]]
id = "waste"
tiers = ["district"]
per_capita = 35.0
scale_exponent = 0.9
coordination = 0.05
migration = 0.1
max_size = 3
"""


def write_grid(folder: Path, rng: random.Random, side: int, *, limits: bool, locked: bool, max_size: int = 4) -> Path:
    """A side x side jittered grid of councils with random attributes, as an instance folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.toml").write_text(MODEL.format(max_size=max_size, km=rng.choice([40, 60, 200])))
    codes = [f"C{r}{c}" for r in range(side) for c in range(side)]
    rows = ["code,name,tier,nation,region,county,population,lat,lon,commitment,max_partnerships,max_hosted"]
    for r in range(side):
        for c in range(side):
            code = f"C{r}{c}"
            tier = rng.choice(["district", "district", "unitary"])
            commitment = rng.choice([1.0, 1.0, 0.7, 0.55, 0.3])
            max_p = rng.choice(["", "", "", "1"]) if limits else ""
            max_h = rng.choice(["", "", "0", "1"]) if limits else ""
            lat = 52 + 0.18 * r + rng.uniform(-0.04, 0.04)
            lon = -1 + 0.28 * c + rng.uniform(-0.05, 0.05)
            pop = rng.randint(40_000, 300_000)
            rows.append(f"{code},Council {code},{tier},england,R,,{pop},{lat:.5f},{lon:.5f},{commitment},{max_p},{max_h}")
    (folder / "councils.csv").write_text("\n".join(rows) + "\n")
    edges = ["a,b"]
    for r in range(side):
        for c in range(side):
            if c + 1 < side:
                edges.append(f"C{r}{c},C{r}{c + 1}")
            if r + 1 < side:
                edges.append(f"C{r}{c},C{r + 1}{c}")
            if r + 1 < side and c + 1 < side and rng.random() < 0.3:
                edges.append(f"C{r}{c},C{r + 1}{c + 1}")
    (folder / "adjacency.csv").write_text("\n".join(edges) + "\n")
    spend = ["code,function,baseline"] + [f"{code},back-office,{rng.randint(1_000_000, 9_000_000)}" for code in codes if rng.random() < 0.7]
    (folder / "spend.csv").write_text("\n".join(spend) + "\n")
    platforms = ["code,function,platform"] + [f"{code},back-office,{rng.choice(['vendor-a', 'vendor-b', 'vendor-c'])}" for code in codes if rng.random() < 0.8]
    (folder / "platforms.csv").write_text("\n".join(platforms) + "\n")
    tables = 'councils = "councils.csv"\nadjacency = "adjacency.csv"\nspend = "spend.csv"\nplatforms = "platforms.csv"\n'
    if locked:
        # two neighbours with enough commitment to host and to share at some depth
        (folder / "partnerships.csv").write_text("id,function,code,host,locked\nL1,back-office,C00,true,true\nL1,back-office,C01,false,true\n")
        text = (folder / "councils.csv").read_text().splitlines()
        text = [line if not line.startswith(("C00,", "C01,")) else _committed(line) for line in text]
        (folder / "councils.csv").write_text("\n".join(text) + "\n")
        tables += 'partnerships = "partnerships.csv"\n'
    (folder / "instance.toml").write_text(f'name = "grid"\nmodel = "model.toml"\n[tables]\n{tables}')
    return folder


def _committed(line: str) -> str:
    parts = line.split(",")
    parts[9] = "1.0"
    return ",".join(parts)


CASES = [
    # (seed, side, limits, locked, budget)
    (1, 5, False, False, None),
    (2, 5, True, False, None),
    (3, 6, False, True, None),
    (4, 5, True, True, None),
    (5, 5, False, False, 25e6),
    (6, 6, True, True, 40e6),
    (7, 4, True, False, 10e6),
    (8, 6, False, False, None),
]


@pytest.mark.parametrize("seed,side,limits,locked,budget", CASES)
def test_exact_equals_naive_on_medium_instances(tmp_path, seed, side, limits, locked, budget):
    rng = random.Random(seed)
    folder = write_grid(tmp_path / "grid", rng, side, limits=limits, locked=locked)
    model = folder / "model.toml"
    plans = {}
    for method in ("exact", "naive"):
        plans[method] = solve(folder, model, RunOptions(method=method, budget=budget))
        report = verify(folder, plans[method].data, model)
        assert report.ok, (seed, method, report.problems[:5])
    exact, naive = plans["exact"], plans["naive"]
    assert exact.status == naive.status
    if naive.status == "optimal":
        assert exact.objective == pytest.approx(naive.objective, rel=1e-6, abs=1e-6), f"seed {seed}"
        assert exact.solver["gap"] <= 1e-6
    if locked and exact.status == "optimal":
        locked_members = {("back-office", ("C00", "C01"))}
        chosen = {(p["function"], tuple(sorted(p["members"]))) for p in exact.partnerships}
        assert locked_members <= chosen


def test_exact_with_cbc_equals_highs(tmp_path):
    folder = write_grid(tmp_path / "grid", random.Random(11), 5, limits=True, locked=True)
    model = folder / "model.toml"
    highs = solve(folder, model, RunOptions(solver="highs"))
    cbc = solve(folder, model, RunOptions(solver="cbc"))
    assert highs.status == cbc.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective, rel=1e-6)
    assert verify(folder, cbc.data, model).ok


def test_time_limit_returns_the_incumbent_with_an_honest_gap():
    """A hard region with a short limit: a verified plan comes back, its bound above it."""
    instance = Path(__file__).resolve().parents[1] / "instances" / "england-2023"
    plan = solve(instance, area=("East of England",), functions=("revenues-benefits",), time_limit=3)
    assert plan.status in ("time_limit", "optimal")
    assert plan.partnerships, "the incumbent plan is returned"
    solver = plan.solver
    assert solver["bound"] >= solver["objective"] - 1e-6 * abs(solver["objective"])
    expected_gap = (solver["bound"] - solver["objective"]) / abs(solver["objective"])
    assert solver["gap"] == pytest.approx(expected_gap, rel=1e-6, abs=1e-12)
    if plan.status == "time_limit":
        assert solver["gap"] > 0
    assert verify(instance, plan.data).ok
    assert not math.isnan(solver["gap"])


def test_every_part_gets_time_for_its_mip_while_the_run_has_time():
    """A share of the time never ends sooner than MIN_MIP_SECONDS from now, unless the run's
    own deadline does: small parts are not left unsolved because many came after them."""
    from optimiser.solve import clock

    now = time.perf_counter()
    assert clock.time_slice(None, 5, None) is None
    fair = clock.time_slice(now + 100, 4, now + 100)
    assert fair == pytest.approx(now + 25, abs=0.5)
    many = clock.time_slice(now + 10, 50, now + 60)  # a fair share of 0.2 s
    assert many >= now + clock.MIN_MIP_SECONDS
    assert clock.time_slice(now + 10, 50, now + 1) <= now + 1 + 1e-6  # never past the run's end
    assert not clock.no_time_for(None, small=False)
    assert clock.no_time_for(0.0, small=True) and clock.no_time_for(-1.0, small=True)
    assert not clock.no_time_for(0.3, small=True)
    assert clock.no_time_for(clock.MIN_MIP_SECONDS / 2, small=False)


@pytest.mark.parametrize("seed", [1, 3, 8])
def test_parts_that_stopped_at_their_share_are_finished_with_time_left_over(tmp_path, seed):
    """Parts handed back unsolved (their share of the time was over) reach the optimum when a
    later pass gives them the time other blocks left."""
    import numpy as np

    from optimiser.solve import exact
    from optimiser.solve.results import BlockBound, PartResult
    from optimiser.problem import load_run
    from optimiser.candidates import CandidateGenerator
    from optimiser.problem import prepare

    folder = write_grid(tmp_path / "grid", random.Random(seed), 6, limits=False, locked=seed == 3, max_size=5)
    model = folder / "model.toml"
    instance, savings, options = load_run(folder, model, functions=("back-office",))
    problem = prepare(instance, savings, options)
    cand, state = exact.first_phase(problem, CandidateGenerator(problem), [0], None, 1)
    assert isinstance(state, BlockBound)
    parts = []
    for columns, bound in state.parts:
        chosen = state.incumbent[np.isin(state.incumbent, columns)]
        parts.append(PartResult(chosen, "time_limit", float(cand.npv[chosen].sum()), bound, columns, bound))
    results = {0: exact.combine(state, parts)}
    assert results[0].status == "time_limit"
    exact.use_time_left(problem, {0: state}, results, "highs", time.perf_counter() + 120)
    expected = solve(folder, model, RunOptions(method="naive", functions=("back-office",)))
    assert results[0].status == expected.status == "optimal"
    assert results[0].objective == pytest.approx(expected.objective, rel=1e-9, abs=1e-6)
    assert results[0].bound == pytest.approx(results[0].objective, rel=1e-9, abs=1e-6)
    assert float(cand.npv[results[0].chosen].sum()) == pytest.approx(results[0].objective, rel=1e-12)


@pytest.mark.parametrize("seed", [2, 4, 6])
def test_every_limit_prices_its_rows_in_the_relaxation(tmp_path, seed):
    """Reduced costs from the limits' hooks equal NPV minus the duals over rows written out
    by hand (packing, max_partnerships, max_hosted, locked, budget, headroom), for random duals."""
    import dataclasses

    import numpy as np

    from optimiser.candidates import CandidateGenerator
    from optimiser.candidates.table import CandidateSet
    from optimiser.problem import load_run, prepare
    from optimiser.solve.relaxation import Relaxation

    folder = write_grid(tmp_path / "grid", random.Random(seed), 5, limits=True, locked=True)
    instance, savings, options = load_run(folder, folder / "model.toml", budget=30e6)
    problem = prepare(instance, savings, options)
    # a headroom on every other council, so that the headroom rows carry entries
    headroom = np.where(np.arange(len(problem.codes)) % 2 == 0, 1e6, np.inf)
    problem = dataclasses.replace(problem, headroom=headroom, memo={})
    generator = CandidateGenerator(problem)
    functions = list(range(len(problem.functions)))
    cand = CandidateSet.concat([generator.function(k) for k in functions], generator.width)
    relaxation = Relaxation(problem, cand, functions)
    n, f = len(problem.codes), len(functions)
    years = problem.model.horizon_years + 1
    locked = [g for g, group in enumerate(problem.locked)]
    first_headroom = f * n + 2 * n + len(locked) + 1
    rows = first_headroom + n * years
    assert len(relaxation.layout) == rows
    y = np.random.default_rng(seed).uniform(0, 1e5, rows)

    def member_cash(j):
        members = [int(m) for m in cand.members[j] if m >= 0]
        b = {m: problem.baseline[int(cand.function[j]), m] for m in members}
        cash = [-cand.one_off[j]] + [cand.annual[j]] * (years - 1)
        return {m: [b[m] / sum(b.values()) * c for c in cash] for m in members}

    # a headroom row is stated only where some option takes money from the council that year
    # (a row of savings alone holds for any x >= 0), so only those rows charge their dual
    takes = np.zeros((n, years), dtype=bool)
    for j in range(len(cand)):
        for m, flows in member_cash(j).items():
            takes[m] |= np.array(flows) < 0
    expected = []
    for j in range(len(cand)):
        members = [int(m) for m in cand.members[j] if m >= 0]
        charge = sum(y[int(cand.function[j]) * n + m] for m in members)
        charge += sum(y[f * n + m] for m in members if problem.max_partnerships[m] >= 0)
        host = int(cand.host[j])
        charge += y[f * n + n + host] if problem.max_hosted[host] >= 0 else 0.0
        charge += y[f * n + 2 * n + locked.index(int(cand.locked[j]))] if cand.locked[j] >= 0 else 0.0
        charge += y[first_headroom - 1] * cand.one_off[j]
        # headroom: each limited member pays its baseline share of -O in year 0 and of -A in later years
        for m, flows in member_cash(j).items():
            if np.isfinite(headroom[m]):
                charge += sum(y[first_headroom + m * years + t] * -flows[t] for t in range(years) if takes[m, t])
        expected.append(cand.npv[j] - charge)
    assert np.allclose(relaxation.reduced_costs(y), expected, rtol=1e-12, atol=1e-6)
