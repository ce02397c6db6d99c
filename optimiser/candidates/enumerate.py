"""Member sets: every group of eligible councils the rules allow, grown level by level.

* with ``contiguous``, sets of size k+1 are the sets of size k grown by one neighbour
  (connected induced subgraphs), de-duplicated;
* without it, sets are grown by any compatible council of a higher index (each set once).

Councils of different region/county/nation (for the ``same_*`` rules) are never joined, and
when ``within_km:N`` applies, two members more than 2N km apart are never joined (no host
could then be within N km of both).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..problem import Problem
from ..rules.group import CONTIGUOUS, MAX_SIZE, member_mask, pair_mask

#: Above this many member sets for one function the rules are too loose to enumerate.
MAX_SETS_PER_FUNCTION = 20_000_000
CHUNK = 200_000


def _unique_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """Distinct sorted rows, in order of first appearance; rows hold council indices < n."""
    rows = np.ascontiguousarray(rows)
    width = rows.shape[1]
    if width * np.log2(max(n, 2)) < 62:
        key = np.zeros(len(rows), dtype=np.int64)
        for column in range(width):
            key = key * n + rows[:, column]
    else:
        key = rows.view(np.dtype((np.void, rows.dtype.itemsize * width))).ravel()
    _, first = np.unique(key, return_index=True)
    return rows[np.sort(first)]


def is_new_member(sets: np.ndarray, newcomer: np.ndarray) -> np.ndarray:
    """(g,) whether ``newcomer[i]`` is not already in ``sets[i]``. Column by column: numpy
    reduces a short last axis several times slower."""
    new = sets[:, 0] != newcomer
    for column in range(1, sets.shape[1]):
        new &= sets[:, column] != newcomer
    return new


def compatible_with_all(compatible: np.ndarray, sets: np.ndarray, newcomer: np.ndarray) -> np.ndarray:
    """(g,) whether ``newcomer[i]`` may join every member of ``sets[i]`` (``compatible``: (n, n))."""
    ok = compatible[sets[:, 0], newcomer]
    for column in range(1, sets.shape[1]):
        ok &= compatible[sets[:, column], newcomer]
    return ok


def enumerate_sets(problem: Problem, k: int, nodes: np.ndarray | None = None) -> list[np.ndarray]:
    """Member sets of function k that the rules' ``councils`` and ``pairs`` hooks allow (tier,
    area, exclude, the same_* rules, within_km's 2N km, --apart), connected when
    ``contiguous`` applies, of up to max_size members, by size.

    Returns a list whose entry s-2 is an int32 array (count, s) of sorted council indices.
    ``nodes`` restricts the councils considered (default: all eligible for the function).
    """
    function = problem.functions[k]
    eligible = member_mask(problem, k)
    if nodes is not None:
        mask = np.zeros_like(eligible)
        mask[nodes] = True
        eligible &= mask
    max_size = MAX_SIZE.limit(problem, k)
    nodes = np.flatnonzero(eligible)
    n = len(problem.eligible[k])
    if len(nodes) < 2:
        return []

    compatible = pair_mask(problem, k) & eligible[:, None] & eligible[None, :]
    np.fill_diagonal(compatible, False)

    contiguous = CONTIGUOUS.applies(function)
    if contiguous:
        # neighbour lists in CSR form: council i's are targets[starts[i]:starts[i + 1]]
        grow = CONTIGUOUS.adjacency(problem) & compatible
        degree = grow.sum(axis=1)
        starts = np.r_[0, np.cumsum(degree)]
        targets = np.nonzero(grow)[1].astype(np.int32)

    levels = []
    current = nodes.astype(np.int32)[:, None]
    total = 0
    for size in range(2, max_size + 1):
        pieces = []
        for start in range(0, len(current), CHUNK):
            block = current[start : start + CHUNK]
            if contiguous:
                # grow by neighbours above the set's smallest member (its root), so each set
                # comes only from its root; a connected set can always be grown that way
                member_degree = degree[block]
                rows = np.repeat(np.arange(len(block)), member_degree.sum(axis=1))
                flat = block.ravel()
                counts = degree[flat]
                first = np.repeat(starts[flat] - np.r_[0, np.cumsum(counts)[:-1]], counts)
                v = targets[first + np.arange(counts.sum())]
                keep = v > block[rows, 0]
                rows, v = rows[keep], v[keep]
                keep = is_new_member(block[rows], v)
            else:
                # grow only by councils above the set's largest member: each set once
                above = np.arange(n)[None, :] > block[:, -1:]
                ok = above & compatible[block[:, 0]]
                rows, v = np.nonzero(ok)
                v = v.astype(np.int32)
                keep = np.ones(len(v), dtype=bool)
            rows, v = rows[keep], v[keep]
            # every member must be compatible with the newcomer (class, distance, --apart)
            keep = compatible_with_all(compatible, block[rows], v)
            grown = np.concatenate([block[rows[keep]], v[keep, None]], axis=1)
            if contiguous:
                grown.sort(axis=1)
            pieces.append(grown)
        grown = np.concatenate(pieces) if pieces else np.zeros((0, size), dtype=np.int32)
        if contiguous and len(grown):
            grown = _unique_rows(grown, n)
        total += len(grown)
        if total > MAX_SETS_PER_FUNCTION:
            raise InputError(
                problem.model.path or problem.model.name,
                f"function '{function.id}': its rules allow more than {MAX_SETS_PER_FUNCTION:,} groups; "
                "add 'contiguous' or a tighter within_km, or lower max_size",
            )
        if not len(grown):
            break
        levels.append(grown.astype(np.int32))
        current = grown
    return levels


def enumerate_supersets(problem: Problem, k: int, root: np.ndarray, pool: np.ndarray) -> list[np.ndarray]:
    """``root`` and every set that holds it, grown by councils of ``pool`` (an (n,) mask) that
    the rules' ``councils`` and ``pairs`` hooks allow beside every member, connected to it
    when ``contiguous`` applies (a connected set holding a connected root can always be grown
    from it one neighbour at a time), of up to max_size members, by size. The sets still
    need the rules' whole-set, host and depth checks.
    """
    root = np.sort(np.asarray(root, dtype=np.int32))
    n = len(problem.codes)
    compatible = pair_mask(problem, k) & member_mask(problem, k)[None, :]
    np.fill_diagonal(compatible, False)
    newcomers = np.asarray(pool, dtype=bool) & member_mask(problem, k) & compatible[root].all(axis=0)
    newcomers[root] = False
    contiguous = CONTIGUOUS.applies(problem.functions[k])
    adjacency = CONTIGUOUS.adjacency(problem) if contiguous else None
    levels = [root[None, :]]
    added = np.zeros((1, 0), dtype=np.int32)  # without contiguity: the newcomers of each set, ascending
    for size in range(len(root) + 1, MAX_SIZE.limit(problem, k) + 1):
        current = levels[-1]
        if contiguous:
            touching = adjacency[current].any(axis=1) & newcomers[None, :]
            rows, v = np.nonzero(touching)
        else:
            last = added[:, -1:] if added.shape[1] else np.full((len(added), 1), -1)
            rows, v = np.nonzero((np.arange(n)[None, :] > last) & newcomers[None, :])
        keep = compatible_with_all(compatible, current[rows], v) & is_new_member(current[rows], v)
        rows, v = rows[keep], v[keep].astype(np.int32)
        grown = np.sort(np.concatenate([current[rows], v[:, None]], axis=1), axis=1)
        if contiguous:
            grown = _unique_rows(grown, n) if len(grown) else grown
        else:
            added = np.concatenate([added[rows], v[:, None]], axis=1)
        if not len(grown):
            break
        levels.append(grown.astype(np.int32))
    return levels


def enumeration(problem: Problem, k: int, memo: dict, committed: np.ndarray | None = None) -> list[np.ndarray]:
    """The member sets of function k (:func:`enumerate_sets`) over its eligible councils not
    ``committed`` (an (n,) mask), shared through ``memo`` by functions whose eligible councils
    and rules are the same."""
    committed = np.zeros(len(problem.codes), dtype=bool) if committed is None else committed
    key = (problem.eligible[k].tobytes(), committed.tobytes(), problem.functions[k].geography, int(problem.max_size[k]))
    if key not in memo:
        memo[key] = enumerate_sets(problem, k, np.flatnonzero(problem.eligible[k] & ~committed))
    return memo[key]
