"""Locked existing partnerships: the rules each breaks, and their options."""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..errors import InputError
from ..problem import Problem
from .evaluate import evaluate_sets
from .table import CandidateSet


def rule_breaks(problem: Problem, k: int, members: np.ndarray) -> list[str]:
    """Every rule of SPEC §3 that the member set breaks for function k, as sentences.

    NPV is not judged here. Used for locked groups (which must break none) and to
    evaluate a user's grouping.
    """
    function = problem.functions[k]
    codes = problem.codes
    councils = problem.instance.councils
    members = np.asarray(members)
    breaks = []
    tiers = councils["tier"].to_numpy()
    for i in members:
        if tiers[i] not in function.tiers:
            breaks.append(f"tier: {codes[i]} is a {tiers[i]} council; '{function.id}' is for {', '.join(function.tiers)}")
        elif not problem.in_area[i]:
            breaks.append(f"area: {codes[i]} is outside --area")
        elif not problem.eligible[k, i]:
            breaks.append(f"exclude: {codes[i]} is excluded from '{function.id}'")
    if len(members) > problem.max_size[k]:
        breaks.append(f"max_size: {len(members)} members, at most {problem.max_size[k]} allowed")
    for kind, column in (("same_region", "region"), ("same_county", "county"), ("same_nation", "nation")):
        if function.rule(kind) and councils[column].iloc[members].nunique() > 1:
            breaks.append(f"{kind}: members are in different {column}s")
    if function.rule("contiguous") and not nx.is_connected(problem.instance.graph.subgraph(codes[i] for i in members)):
        breaks.append("contiguous: the members' territories do not form one connected area")
    for a, b in problem.apart:
        if a in members and b in members:
            breaks.append(f"apart: {codes[a]} and {codes[b]} must not share a partnership")
    commitment = problem.commitment[members]
    if not any(commitment.min() >= d.min_commitment for d in problem.model.depths):
        weakest = codes[members[commitment.argmin()]]
        breaks.append(f"commitment: {weakest} has {commitment.min():g}, below every depth's min_commitment")
    hosts = commitment >= function.host_min_commitment
    if not hosts.any():
        breaks.append(f"host_min_commitment: no member has commitment >= {function.host_min_commitment:g} to host")
    within = function.rule("within_km")
    if within is not None:
        far = problem.distance_km[np.ix_(members, members)].max(axis=1)
        if not (hosts & (far <= within.km)).any():
            breaks.append(f"within_km:{within.km:g}: no member that may host has every other member within {within.km:g} km")
    return breaks


def locked_candidates(problem: Problem, k: int | None = None) -> list[CandidateSet]:
    """The options of every locked group (of function k only, if given)."""
    parts = []
    path = problem.instance.files.get("partnerships", "partnerships.csv")
    for index, group in enumerate(problem.locked):
        if k is not None and group.function_index != k:
            continue
        breaks = rule_breaks(problem, group.function_index, group.members)
        if breaks:
            label = f"locked partnership '{group.partnership.id}' for '{group.partnership.function}'"
            raise InputError(path, f"{label} breaks a rule: {'; '.join(breaks)}", f"line {group.partnership.line}")
        options = evaluate_sets(problem, group.function_index, group.members[None, :], require_positive=False)
        options.locked[:] = index
        parts.append(options)
    return parts
