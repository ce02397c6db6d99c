"""Research over many runs: scenario sweeps across savings assumptions and run options.

:func:`run_sweep` solves every scenario of a sweep file (a grid or a Latin-hypercube sample),
each in its own process on a local pool or a Dask cluster, and writes one table of the
scenarios' figures, per-function figures and plots; it resumes where it stopped.
"""

from ..io.sweep import SweepFile, read_sweep
from .design import Scenario, latin_hypercube, scenario_key, scenarios
from .sweep import SweepResult, plan_sweep, run_sweep

__all__ = ["Scenario", "SweepFile", "SweepResult", "latin_hypercube", "plan_sweep", "read_sweep", "run_sweep", "scenario_key",
           "scenarios"]
