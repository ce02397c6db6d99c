"""The ``optimiser`` command: solve, verify, evaluate, report, withdraw, compare, sweep, and what there is to choose from
(instances, functions, councils, areas).

A thin layer over the library: it parses options, shows progress on a terminal, prints a
summary and turns every input problem into one line on stderr and exit status 2.
Exit status: 0 success; 1 infeasible run, `verify` finding a problem, or a grouping that
breaks rules; 2 bad input; 3 internal error (including a solved plan failing verification);
4 a solve stopped by Ctrl-C or SIGTERM, its best plan so far verified and written; 130 aborted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from ..version import __version__
from ..errors import InputError, SolveError
from ..report.terminal import can_print_pounds, log_handler, say
from . import compare, listings, market, plans, report, sweep, withdraw
from .common import CommandParser, epilog

log = logging.getLogger("optimiser")

#: every module holding commands; each registers its parsers and names the function running each
COMMAND_MODULES = (plans, report, withdraw, market, compare, sweep, listings)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The parser of the ``optimiser`` command and the function that runs each command."""
    parser = CommandParser(
        prog="optimiser", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=epilog(["optimiser solve england-2023 --area Suffolk --out results/suffolk",
                       "optimiser areas england-2023", "optimiser solve --help"],
                      ["0  success", "1  no feasible plan, a plan with problems, or a grouping that breaks rules",
                       "2  bad input: one line naming the file, line or option", "3  internal error",
                       "4  a solve stopped by Ctrl-C or SIGTERM: its best plan so far, verified, is written",
                       "130  aborted by a second Ctrl-C: nothing is written"]),
        description="Which shared-service partnerships should councils form? Exact optimisation of savings\n"
                    "under commitment, geography and democratic-structure rules. Each command has its own\n"
                    "--help, with examples.")
    parser.add_argument("--version", action="version", version=f"optimiser {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=CommandParser)
    parser.commands = sub.choices  # each command's parser, for messages about its options
    commands = {}
    for module in COMMAND_MODULES:
        commands.update(module.register(sub))
    return parser, commands


def main(argv: list[str] | None = None) -> int:
    parser, commands = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.commands[args.command].unknown(extra)
    quiet = getattr(args, "quiet", False)
    handler = log_handler()
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO if args.verbose else logging.ERROR if quiet else logging.WARNING)
    log.propagate = False
    from ..report import text

    pounds = text.CURRENCY
    if not can_print_pounds(sys.stdout):
        text.CURRENCY = "GBP "
    try:
        return commands[args.command](args)
    except InputError as exc:
        say(f"optimiser: {exc}", sys.stderr)
        return 2
    except SolveError as exc:
        say(f"optimiser: solver error: {exc}", sys.stderr)
        return 3
    except KeyboardInterrupt:
        say("optimiser: interrupted", sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) stopped early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not the input's fault: exit 3, traceback only with --verbose
        if args.verbose:
            traceback.print_exc()
        detail = " ".join(str(exc).split())
        say(f"optimiser: internal error: {type(exc).__name__}: {detail} (run with --verbose for details)", sys.stderr)
        return 3
    finally:
        text.CURRENCY = pounds
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
