"""Running the command line in-process, as the CLI tests do."""

from __future__ import annotations

from optimiser.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    """Runs ``optimiser ARGV`` in this process; returns (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
