"""Errors that tell the user what to fix.

Every problem with the input (instance folder, model file, run options) is an
:class:`InputError`. Its message names the file, the row or key, and what is wrong, on
one line, so the command line can print it as-is and exit with status 2.
"""

from __future__ import annotations


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
