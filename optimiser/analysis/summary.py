"""The figures a plan's summary shows: per function, how many partnerships and councils, the
yearly saving against the function's spend, and the NPV."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionFigures:
    function: str
    partnerships: int
    councils: int  # councils in a partnership for the function
    baseline: float  # what every eligible council spends on it, in pounds a year
    annual_saving: float
    npv: float

    @property
    def saving_share(self) -> float:
        """The yearly saving as a share of the function's spend (0 when nothing is spent)."""
        return self.annual_saving / self.baseline if self.baseline else 0.0


def function_figures(plan) -> list[FunctionFigures]:
    """Per function of the plan, in the order its council rows list them."""
    order: list[str] = []
    sums: dict[str, dict] = {}
    for row in plan.councils:
        if row.function not in sums:
            order.append(row.function)
            sums[row.function] = {"baseline": 0.0, "partnerships": set(), "councils": 0, "annual": 0.0, "npv": 0.0}
        entry = sums[row.function]
        entry["baseline"] += row.baseline
        if row.partnership:
            entry["partnerships"].add(row.partnership)
            entry["councils"] += 1
            entry["annual"] += row.annual_saving_share
            entry["npv"] += row.npv_share
    return [FunctionFigures(f, len(sums[f]["partnerships"]), sums[f]["councils"], sums[f]["baseline"], sums[f]["annual"], sums[f]["npv"])
            for f in order]
