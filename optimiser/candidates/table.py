"""CandidateSet: candidate partnerships as parallel numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CandidateSet:
    """Candidate partnerships as parallel arrays, one entry per (member set, option).

    ``members`` is padded with -1 to the widest set; ``locked`` is the index into
    ``problem.locked`` for options of a locked group, else -1. ``value`` is what the plan
    maximises: the NPV, or under ``--objective expected`` the expected NPV (SPEC §5).
    """

    function: np.ndarray
    members: np.ndarray
    size: np.ndarray
    host: np.ndarray
    depth: np.ndarray
    platform: np.ndarray
    annual: np.ndarray
    one_off: np.ndarray
    npv: np.ndarray
    locked: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.npv)

    def take(self, index: np.ndarray) -> "CandidateSet":
        return CandidateSet(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list["CandidateSet"], width: int) -> "CandidateSet":
        if not parts:
            return CandidateSet.empty(width)
        fields = {}
        for name in CandidateSet.__dataclass_fields__:
            if name == "members":
                padded = []
                for p in parts:
                    m = np.full((len(p), width), -1, dtype=np.int32)
                    m[:, : p.members.shape[1]] = p.members
                    padded.append(m)
                fields[name] = np.concatenate(padded)
            else:
                fields[name] = np.concatenate([getattr(p, name) for p in parts])
        return CandidateSet(**fields)

    @staticmethod
    def empty(width: int) -> "CandidateSet":
        ints = np.zeros(0, dtype=np.int32)
        floats = np.zeros(0)
        return CandidateSet(ints, np.zeros((0, width), dtype=np.int32), ints, ints, ints, ints, floats, floats, floats, ints, floats)
