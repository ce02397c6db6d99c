"""Candidate partnerships: every group the rules allow, with its best standardisation options.

``enumerate`` grows the member sets, ``evaluate`` applies the savings arithmetic to them as
arrays, ``locked`` handles the partnerships an instance locks, ``generator`` puts a run's
candidates together, and ``table`` holds them (:class:`CandidateSet`).
"""

from .enumerate import enumerate_sets
from .evaluate import evaluate_sets
from .generator import CandidateGenerator, generate
from .locked import locked_candidates
from .table import CandidateSet

__all__ = ["CandidateGenerator", "CandidateSet", "enumerate_sets", "evaluate_sets", "generate", "locked_candidates"]
