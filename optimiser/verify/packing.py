"""The LP relaxation of one function's set packing, by column generation: the verifier's
own, written against HiGHS (``highspy``) directly.

    max sum_g v_g x_g   s.t.   sum_{g containing i} x_g <= 1 for every council i,  0 <= x_g <= 1

over every column g (a group and its value). A national function has hundreds of thousands of
columns but a few hundred rows, so the LP is solved over a few thousand columns at a time:
the best columns first, then, round by round, those whose reduced cost v_g - sum_i y_i at the
current row duals y is largest, each round warm-started by primal simplex (the basis stays
primal feasible when columns are added).

Why the answer is the LP optimum and not a guess near it: for any y >= 0,

    L(y) = sum_i y_i + sum_g max(0, v_g - sum_{i in g} y_i)

is an upper bound on the full LP (weak duality; the second sum pays for the x_g <= 1 bounds),
and the restricted LP's objective is a lower bound (its solution is feasible for the full
LP). The rounds stop only when the two are within ``GAP`` (relative) of each other, so the
value returned is the full LP's optimum to that tolerance, whatever the columns left out.
"""

from __future__ import annotations

import numpy as np

from ..highs import silence_banner

#: the proven gap (relative, on max(1, |bound|)) at which the rounds stop: far inside the
#: verifier's money tolerance (1e-6 relative)
GAP = 1e-10
FIRST_COLUMNS_PER_ROW = 8
COLUMNS_PER_ROUND_PER_ROW = 4
MAX_ROUNDS = 500


def _model(rows: int):
    import highspy

    silence_banner()
    lp = highspy.Highs()
    lp.setOptionValue("output_flag", False)
    lp.setOptionValue("simplex_strategy", 4)  # primal: each round's basis stays feasible
    lp.changeObjectiveSense(highspy.ObjSense.kMaximize)
    lp.addRows(rows, np.full(rows, -np.inf), np.ones(rows), 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    return lp


def _add(lp, value: np.ndarray, members: np.ndarray) -> None:
    count, size = members.shape
    starts = np.arange(0, count * size, size, dtype=np.int32)
    lp.addCols(count, value, np.zeros(count), np.ones(count), count * size, starts,
               members.astype(np.int32).ravel(), np.ones(count * size))


class _Columns:
    """The columns of one size: values (c,) and member rows (c, k), and which are in the LP."""

    def __init__(self, value: np.ndarray, members: np.ndarray):
        self.value, self.members = value, members
        self.inside = np.zeros(len(value), dtype=bool)

    def reduced(self, dual: np.ndarray) -> np.ndarray:
        return self.value - dual[self.members] @ np.ones(self.members.shape[1])


def _take(lp, columns: list[_Columns], score: list[np.ndarray], count: int) -> int:
    """Add to ``lp`` the ``count`` columns outside it of highest positive ``score``."""
    pooled = np.concatenate([np.where(c.inside | (s <= 0), -np.inf, s) for c, s in zip(columns, score)])
    count = min(count, int(np.isfinite(pooled).sum()))
    if count == 0:
        return 0
    chosen = np.argpartition(-pooled, count - 1)[:count]
    start = 0
    for c in columns:
        mine = chosen[(chosen >= start) & (chosen < start + len(c.value))] - start
        if len(mine):
            c.inside[mine] = True
            _add(lp, c.value[mine], c.members[mine])
        start += len(c.value)
    return count


def packing_bound(rows: int, levels: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The LP optimum over ``rows`` councils and the columns of ``levels``, each a pair
    (values (c,), member positions (c, k)); columns of value <= 0 may be left out by the
    caller (they are 0 at some optimum)."""
    columns = [_Columns(np.asarray(v, dtype=float), np.asarray(m, dtype=np.int64)) for v, m in levels if len(v)]
    if not columns:
        return 0.0
    lp = _model(rows)
    _take(lp, columns, [c.value for c in columns], FIRST_COLUMNS_PER_ROW * rows)
    for _ in range(MAX_ROUNDS):
        lp.run()
        status = lp.getModelStatus()
        if lp.modelStatusToString(status) != "Optimal":
            raise RuntimeError(f"the packing LP ended {lp.modelStatusToString(status)}")
        lower = float(lp.getInfo().objective_function_value)
        # y >= 0 for the <= rows of a maximisation; the clip only removes rounding noise
        dual = np.clip(np.abs(np.asarray(lp.getSolution().row_dual)), 0.0, None)
        reduced = [c.reduced(dual) for c in columns]
        upper = float(dual.sum()) + sum(float(np.maximum(r, 0.0).sum()) for r in reduced)
        if upper - lower <= GAP * max(1.0, abs(upper)):
            return lower
        if _take(lp, columns, reduced, COLUMNS_PER_ROUND_PER_ROW * rows) == 0:
            # every column is in: the restricted LP is the full LP
            return lower
    raise RuntimeError(f"the packing LP did not close its gap in {MAX_ROUNDS} rounds")
