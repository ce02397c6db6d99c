"""What every command of the ``optimiser`` command line shares: its parser, the run options,
the --out folder checks and loading an instance with its model."""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from ..errors import InputError
from ..report.terminal import printable

log = logging.getLogger("optimiser")

NAMES = """Councils and areas may be given by code (any case) or by name: 'Mid Suffolk', Hull, Durham,
'Bristol, City of', 'Greater Manchester'. Join several with ';' (names may hold commas);
',' works too where it cannot split a name. See 'optimiser councils INSTANCE' and
'optimiser areas INSTANCE' for what an instance has."""
LIST_EXIT = ["0  success", "2  bad input: an unknown instance, model or area (one line)", "3  internal error"]
#: options only ``solve`` has: evaluate says so instead of "unknown option"
SOLVE_ONLY = ("--solver", "--method", "--time-limit", "--jobs", "--top", "--lock", "--keep-existing")


def epilog(examples: list[str], exit_lines: list[str], names: bool = False) -> str:
    listed = "\n".join(f"  {line}" for line in examples)
    status = "\n".join(f"  {line}" for line in exit_lines)
    return f"examples:\n{listed}" + (f"\n\n{NAMES}" if names else "") + f"\n\nexit status:\n{status}"


class CommandParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2) in the style of every
    other bad input, ``optimiser solve: --OPTION: problem``, and help prints on any terminal."""

    def parse_known_args(self, args=None, namespace=None):
        # a value that starts with '-' and a digit ('--loan -0.01:10') is the option's value, not
        # another option: argparse only sees plain negative numbers so
        args = list(sys.argv[1:] if args is None else args)
        takes_value = {o for action in self._actions if action.nargs is None for o in action.option_strings}
        joined, i = [], 0
        while i < len(args):
            if args[i] in takes_value and i + 1 < len(args) and re.match(r"-\.?\d", args[i + 1]):
                joined.append(f"{args[i]}={args[i + 1]}")
                i += 2
            else:
                joined.append(args[i])
                i += 1
        return super().parse_known_args(joined, namespace)

    def error(self, message: str):
        match = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message)
        if match:
            message = f"{match[1]}: {match[2]}"
            flag = re.match(r"ignored explicit argument '(.*)'", match[2])
            if flag:
                message = f"{match[1]}: takes no value (found '{flag[1]}'): write {match[1]} alone, or leave it out"
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")

    def unknown(self, extra: list[str]):
        first = extra[0]
        if first.split("=")[0] in SOLVE_ONLY and self.prog.endswith(" evaluate"):
            self.error(f"{first.split('=')[0]}: not an option of evaluate, which solves no MIP (it is an option of solve)")
        if first.startswith("-"):
            known = [o for action in self._actions for o in action.option_strings]
            close = difflib.get_close_matches(first.split("=")[0], known, n=1)
            self.error(f"{first.split('=')[0]}: unknown option" + (f"; did you mean {close[0]}?" if close else ""))
        self.error(f"'{first}': unexpected argument")

    def _print_message(self, message, file=None):
        if message:
            stream = file or sys.stderr
            stream.write(printable(message, stream))


def add_command(sub, name: str, help: str, description: str, examples: list[str], exit_lines: list[str],
                names: bool = False) -> CommandParser:
    p = sub.add_parser(name, help=help, description=description, epilog=epilog(examples, exit_lines, names),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log each stage to stderr")
    return p


def add_run_options(parser, solving: bool, shares: tuple[str, str] = ("proportional", "how each partnership's NPV is split among its members")) -> None:
    """The run options of SPEC §3 (and the solver's, when ``solving``); ``shares`` is the default
    rule of --shares and what it is for."""
    add = parser.add_argument
    add("--model", metavar="NAME|PATH", help="savings model (default: the instance's)")
    add("--area", action="append", metavar="AREA[;AREA...]",
        help="keep only these councils, counties (with their districts), regions, nations or combined authorities")
    add("--functions", action="append", metavar="ID[,ID...]", help="only these functions (see 'optimiser functions')")
    add("--budget", metavar="POUNDS", help="one-off investment budget for all partnerships together: 5m, £750k, 5,000,000")
    add("--exclude", action="append", default=[], metavar="COUNCIL:FUNCTION",
        help="keep a council out of a function; COUNCIL:* out of all, COUNCIL:ict,legal out of two (repeatable)")
    add("--withdraw", action="append", default=[], metavar="COUNCIL", help="keep a council out of every function (repeatable)")
    add("--apart", action="append", default=[], metavar="COUNCIL:COUNCIL", help="two councils that must not share any partnership (repeatable)")
    add("--max-size", metavar="N", help="cap every function's group size")
    add("--objective", metavar="npv|expected", default="npv",
        help="what the plan maximises: npv (default), or expected: the NPV expected when members may leave")
    add("--robust", action="store_true", help="only partnerships that still pay whoever leaves (N-1 robust)")
    add("--loan", metavar="RATE:YEARS[:TYPE]",
        help="borrow every one-off cost at RATE a year over YEARS, repaid by annuity (default), eip or maturity: 0.045:10, 0.045:10:eip")
    if solving:
        add("--solver", metavar="highs|cbc", default="highs", help="MIP solver (default highs)")
        add("--method", metavar="exact|naive", default="exact",
            help="exact: LP pricing and reduced-cost fixing (default); naive: every candidate in one MIP")
        add("--time-limit", metavar="SECONDS", help="stop with the best plan so far and its gap: 60, 90s, 10m, 1h")
        add("--jobs", metavar="N", help="worker processes for functions solved apart (default: one per core)")
        add("--lock", action="append", default=[], metavar="FUNCTION:COUNCIL+COUNCIL",
            help="a partnership every plan must hold with exactly these members, e.g. 'legal:Babergh+Mid Suffolk' (repeatable)")
        add("--keep-existing", action="store_true",
            help="keep every existing partnership's members together (partnerships.csv); it may grow and change depth, host "
                 "and platform, its past set-up cost sunk")
    others = ", ".join(rule for rule in ("proportional", "shapley", "nucleolus") if rule != shares[0])
    add("--shares", metavar="RULE", default=shares[0], help=f"{shares[1]}: {shares[0]} (default), {others}")
    add("--out", metavar="DIR", help="write the results here (the folder is checked before any work)")
    add("--force", action="store_true", help="replace results already in --out")
    add("--quiet", action="store_true", help="no progress, warnings or summary on the terminal")


def run_options(args):
    """The RunOptions of the command line ``args`` (each value checked: an InputError names the option)."""
    from ..io import values
    from ..problem import RunOptions

    for option, given in (("--area", args.area), ("--functions", args.functions), ("--exclude", args.exclude),
                          ("--withdraw", args.withdraw), ("--apart", args.apart)):
        if any(not text.strip(" ;,") for text in given or ()):
            raise InputError(option, "'' is empty: give a code or a name")
    given = dict(area=args.area, functions=args.functions, budget=args.budget, exclude=args.exclude,
                 withdraw=args.withdraw, apart=args.apart, max_size=args.max_size, objective=args.objective,
                 robust=args.robust, shares=args.shares, loan=args.loan)
    if args.command in ("solve", "match"):
        given.update(solver=args.solver, method=args.method, time_limit=args.time_limit, jobs=args.jobs, lock=args.lock,
                     keep_existing=args.keep_existing)
        args.top = values.whole(args.top, "--top", low=0)
    return RunOptions.create(**given)


def check_out(out: str | None, force: bool = False, files: tuple[str, ...] = ()) -> None:
    """Fails early (before any work) when --out cannot be a folder we may write into, or
    already holds results and --force is not given."""
    if not out:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError("--out", f"'{out}' exists and is not a folder")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise InputError("--out", f"'{out}' cannot be made: '{parent}' is not a folder")
    target = path if path.exists() else parent
    try:
        handle, probe = tempfile.mkstemp(dir=target, prefix=".optimiser-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError("--out", f"'{out}' cannot be written: {exc.strerror or exc} in '{target}'") from None
    held = [name for name in files if (path / name).exists()]
    if held and not force:
        raise InputError("--out", f"'{out}' already holds {', '.join(held)}; pass --force to replace them, or choose another folder")


def load_instance_and_model(args):
    from ..io.instance import load_instance
    from ..io.model import load_model

    instance = load_instance(args.instance)
    ref = args.model or instance.model_ref
    if ref is None:
        raise InputError(instance.folder / "instance.toml", "names no default model; pass --model", "model")
    try:
        return instance, load_model(ref, near=instance.folder)
    except InputError as exc:
        if args.model or exc.source != f"model '{ref}'":
            raise
        # the instance names a model that is not there: point at the key that names it
        raise InputError(instance.folder / "instance.toml", f"{exc.problem}; pass --model or fix the key", "model") from None


def write_out(out: str, write) -> None:
    try:
        write()
    except OSError as exc:
        raise InputError("--out", f"'{out}' cannot be written: {exc.strerror or exc}") from None


def plan_model(plan, instance, model_ref: str | None):
    """The model a command reads ``plan`` with (--model, else the plan's own: the one its
    provenance embeds, else the one it names), after one warning line if the instance's files
    are not the ones the plan was made from."""
    drift = plan.instance_drift(instance)
    if drift:
        log.warning("%s", drift)
    return plan.savings_model(instance, model_ref)
