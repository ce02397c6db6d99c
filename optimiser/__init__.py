"""partnership-optimiser: which shared-service partnerships should councils form?

The public API::

    from optimiser import load_instance, load_model, solve, evaluate, verify, RunOptions

    plan = solve("instances/suffolk-2023")             # uses the instance's default model
    report = verify("instances/suffolk-2023", plan)     # independent recomputation
    assert report.ok
"""

from .api import evaluate, solve
from .version import __version__
from .errors import InputError, SolveError
from .io.instance import Instance, load_instance
from .io.model import SavingsModel, load_model
from .plan import Plan
from .problem import RunOptions
from .verify import VerifyReport, verify

__all__ = [
    "Instance",
    "InputError",
    "Plan",
    "RunOptions",
    "SavingsModel",
    "SolveError",
    "VerifyReport",
    "evaluate",
    "load_instance",
    "load_model",
    "solve",
    "verify",
]
