"""A sweep's results as tables and plots, rebuilt from the scenario files every time.

``sweep.csv`` / ``sweep.parquet``: one row a scenario (its key, the swept values, then the
figures of :data:`~optimiser.research.scenario.FIGURES`); ``sweep_functions.csv`` /
``sweep_functions.parquet``: the per-function figures in long form, one row per scenario and
function (a long table, not wide columns: any number of functions, and pandas pivots it in one
line). Parquet needs pyarrow; plots need matplotlib (both in the ``sweep`` extra): without
them those files are skipped with a warning.
"""

from __future__ import annotations

import io
import logging
import math
from pathlib import Path

import pandas as pd

from ..io.tables import write_atomically
from .design import shown
from .scenario import FIGURES, FUNCTION_FIGURES

log = logging.getLogger(__name__)

MISSING = "pip install 'partnership-optimiser[sweep]'"


def frames(records: list[dict], dimensions: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scenario table and the per-function table of ``records`` (in the sweep's order)."""
    rows = [{"key": r["key"], **{name: table_value(r["values"].get(name)) for name in dimensions},
             **{name: r["row"].get(name) for name in FIGURES}} for r in records]
    scenarios = pd.DataFrame(rows, columns=["key", *dimensions, *FIGURES])
    functions = pd.DataFrame([f for r in records for f in r["functions"]], columns=list(FUNCTION_FIGURES))
    return scenarios, functions


def table_value(value):
    """A swept value as one cell: lists (an area of several places) joined with '; ', no
    budget or loan as empty."""
    if isinstance(value, (list, tuple)):
        return shown(value)
    return value


def write_tables(out: Path, scenarios: pd.DataFrame, functions: pd.DataFrame) -> list[str]:
    """Writes the CSV tables, and the Parquet ones when pyarrow is there; the names written."""
    files = {"sweep.csv": scenarios.to_csv(index=False), "sweep_functions.csv": functions.to_csv(index=False)}
    written = list(files)
    write_atomically(out, files)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        log.warning("pyarrow is not installed, so no Parquet tables were written (%s)", MISSING)
        return written
    for name, frame in (("sweep.parquet", scenarios), ("sweep_functions.parquet", functions)):
        buffer = io.BytesIO()
        parquet_frame(frame).to_parquet(buffer, index=False)
        temporary = out / f".{name}.writing"
        temporary.write_bytes(buffer.getvalue())
        temporary.replace(out / name)
        written.append(name)
    return written


def parquet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each column of mixed values (a swept budget of numbers and none) as text."""
    frame = frame.copy()
    for column in frame.columns:
        kinds = {type(v) for v in frame[column] if v is not None and not (isinstance(v, float) and math.isnan(v))}
        if len(kinds) > 1 and not kinds <= {int, float}:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame


def write_plots(out: Path, scenarios: pd.DataFrame, dimensions: list[str]) -> list[str]:
    """PNG plots of NPV and of partnership sizes against each swept dimension."""
    try:
        import matplotlib
    except ImportError:
        log.warning("matplotlib is not installed, so no plots were drawn (%s)", MISSING)
        return []
    matplotlib.use("Agg")
    from matplotlib import pyplot

    solved = scenarios[scenarios["status"].isin(["optimal", "time_limit"])]
    if solved.empty:
        log.warning("no scenario has a plan, so no plots were drawn")
        return []
    folder = out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in dimensions:
        for figure_name, columns, label in (
                ("npv", [("npv", "NPV")], "NPV (£m)"),
                ("sizes", [("mean_partnership_size", "mean size"), ("largest_partnership", "largest")], "members")):
            figure, axes = pyplot.subplots(figsize=(6, 4))
            x = solved[name].map(lambda v: "none" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            numeric = pd.to_numeric(x, errors="coerce").notna().all() and len(x)
            positions = pd.to_numeric(x) if numeric else x.astype(str)
            for column, legend in columns:
                y = pd.to_numeric(solved[column], errors="coerce")
                axes.scatter(positions, y / 1e6 if column == "npv" else y, label=legend, alpha=0.75)
            axes.set_xlabel(name.replace("_", " ") + (" (x the model's figure)" if _is_factor(name) else ""))
            axes.set_ylabel(label)
            axes.set_title(f"{'NPV' if figure_name == 'npv' else 'Partnership sizes'} against {name.replace('_', ' ')}")
            if len(columns) > 1:
                axes.legend()
            axes.grid(alpha=0.3)
            figure.tight_layout()
            path = folder / f"{figure_name}_{name}.png"
            temporary = folder / f".{path.name}.writing"
            figure.savefig(temporary, dpi=100, format="png")
            pyplot.close(figure)
            temporary.replace(path)
            written.append(f"plots/{path.name}")
    return written


def _is_factor(name: str) -> bool:
    from ..io.variants import FACTORS

    return name in FACTORS
