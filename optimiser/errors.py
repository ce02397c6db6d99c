"""Errors that tell the user what to fix.

Every problem with the input (instance folder, model file, run options) is an
:class:`InputError`. Its message names the file, the row or key, and what is wrong, on
one line, so the command line can print it as-is and exit with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass


class InputError(ValueError):
    """Bad input: names the source (a file or an option), where in it, and the problem."""

    def __init__(self, source: str, problem: str, where: str | None = None):
        self.source = str(source)
        self.where = where
        self.problem = problem
        location = f"{self.source}: {where}" if where else self.source
        super().__init__(f"{location}: {problem}")

    def __reduce__(self):
        # rebuilt from its parts, so that it crosses from a worker process intact
        return (type(self), (self.source, self.problem, self.where))


class SolveError(RuntimeError):
    """The solver failed in a way that is not the input's fault."""


@dataclass(frozen=True)
class Finding:
    """One problem a check found: the rule or check that failed (a name from
    ``optimiser.rules.RULES`` where it is one), where (a partnership, council or key), and a
    sentence for a person."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
