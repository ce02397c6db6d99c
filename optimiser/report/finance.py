"""Invest to save in words (SPEC §8): what must be borrowed, the heaviest year of repayments,
and which councils' worst years bind on their headroom."""

from __future__ import annotations


def finance_lines(plan, names: dict, money, top: int = 10) -> list[str]:
    """Lines for the terminal summary; ``money`` writes pounds as a person reads them."""
    finance = plan.finance
    if not finance or not plan.partnerships:
        return []
    loan = finance.get("loan")
    one_off = plan.totals.one_off_cost
    lines = [""]
    if loan:
        lines.append(f"  finance: borrow {money(finance['borrowed'])} for the one-off costs at {loan['label']}; "
                     f"repayments peak at {money(finance['peak_debt_service'])} a year")
    else:
        lines.append(f"  finance: {money(one_off)} of one-off costs paid up front in year 0 (no loan; --loan RATE:YEARS to borrow it)")
    lines.append(f"  financed NPV {money(finance['financed_npv'])} (every year's net cash, discounted)")
    councils = finance.get("councils") or {}
    binding = [(code, c) for code, c in councils.items() if c.get("binds")]
    if binding:
        said = ", ".join(f"{names.get(code, code)} (worst year {c['worst_year']}: {money(c['net_cash'])} of "
                         f"{money(-c['headroom'])} allowed)" for code, c in binding[:top])
        more = f" and {len(binding) - top} more" if len(binding) > top else ""
        lines.append(f"  headroom binds for {len(binding)} council(s), whose worst years would be beyond it otherwise: {said}{more}")
    elif any(c.get("headroom") is not None for c in councils.values()):
        lines.append("  every council's worst year is within its headroom; no headroom changes the plan")
    gap = finance.get("financing_gap") or 0.0
    short = finance.get("shortfalls") or {}
    if gap > 0:
        worst = sorted(short.items(), key=lambda kv: -kv[1])[:top]
        said = ", ".join(f"{names.get(code, code)} {money(amount)}" for code, amount in worst)
        lines.append(f"  financing gap {money(gap)}: without headroom limits the plan would leave "
                     f"{len(short)} council(s) short in their worst year ({said}); this plan avoids it")
    elif "without_headroom" in finance:
        lines.append("  no financing gap: the best plan without headroom limits already fits every council's headroom")
    return lines
