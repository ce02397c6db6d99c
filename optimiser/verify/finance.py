"""A second, independent reckoning of the invest-to-save figures (SPEC section 8), for the verifier.

Plain Python, one year at a time, sharing nothing with ``optimiser.economics``: loans are
repaid by walking the outstanding balance, payback by adding up years until the one-off
cost is covered, present values by an explicit loop. Where the engine uses a closed form,
this uses the definition, so a slip in either shows up as a disagreement.

Loan terms are passed as (rate, years, kind), kind one of "annuity", "eip", "maturity"; a
loan of None means the one-off cost is paid in cash in year 0.
"""

from __future__ import annotations

import math


def ramp_at(ramp, year):
    """The share of the yearly saving realised in year (1, 2, ...); the last value holds after."""
    if not ramp:
        raise ValueError("a ramp needs at least one value")
    return float(ramp[year - 1]) if year <= len(ramp) else float(ramp[-1])


def present_value(amounts, rate, first_year):
    """sum of amounts[k] / (1 + rate)^(first_year + k), one year after another."""
    total = 0.0
    factor = 1.0
    for _ in range(first_year):
        factor /= 1.0 + rate
    for amount in amounts:
        total += amount * factor
        factor /= 1.0 + rate
    return total


def annuity_between(rate, first, last):
    """a(first..last): today's value of a pound a year in years first..last (0 if none)."""
    if last < first:
        return 0.0
    return present_value([1.0] * (last - first + 1), rate, first)


def annuity(rate, horizon):
    """a: today's value of a pound a year in years 1..T."""
    return annuity_between(rate, 1, horizon)


def npv(annual, one_off, ramp, rate, horizon):
    """The discounted savings A ramp_t over years 1..T, less the one-off cost O."""
    savings = [annual * ramp_at(ramp, t) for t in range(1, horizon + 1)]
    return present_value(savings, rate, 1) - one_off


def payback_years(annual, one_off, ramp=(1.0,)):
    """Years until the undiscounted savings add up to the one-off cost, the last year
    interpolated; None when the savings never get there (including annual <= 0)."""
    if not annual > 0:
        return None
    if one_off <= 0:
        return 0.0
    covered = 0.0
    year = 1
    while True:
        saving = annual * ramp_at(ramp, year)
        if covered + saving >= one_off:
            return (year - 1) + (one_off - covered) / saving
        covered += saving
        if year >= len(ramp):
            # every later year saves the same, so the rest is one division, not a longer walk
            if saving <= 0:
                return None
            return year + (one_off - covered) / saving
        year += 1


def loan_schedule(one_off, rate, years, kind, horizon):
    """[(interest, principal, payment)] for years 1..T, each year worked from the balance
    still owed at its start; (0, 0, 0) once the loan is repaid."""
    if kind not in ("annuity", "eip", "maturity"):
        raise ValueError(f"unknown loan type {kind!r}")
    if not 1 <= years <= horizon:
        raise ValueError(f"loan of {years} years does not fit a horizon of {horizon}")
    # the level payment whose present value at the loan's rate is the amount borrowed
    level = one_off / annuity_between(rate, 1, years)
    balance = float(one_off)
    rows = []
    for year in range(1, horizon + 1):
        if year > years:
            rows.append((0.0, 0.0, 0.0))
            continue
        interest = balance * rate
        if year == years:
            principal = balance
        elif kind == "annuity":
            principal = level - interest
        elif kind == "eip":
            principal = one_off / years
        else:
            principal = 0.0
        balance -= principal
        rows.append((interest, principal, interest + principal))
    return rows


def debt_service(one_off, loan, horizon):
    """D_t for years 1..T (all 0 without a loan)."""
    if loan is None:
        return [0.0] * horizon
    rate, years, kind = loan
    return [payment for _, _, payment in loan_schedule(one_off, rate, years, kind, horizon)]


def net_cash(share, annual, one_off, ramp, loan, horizon):
    """Net cash for years 0..T: share (A ramp_t - D_t), and -share O in year 0 without a loan."""
    payments = debt_service(one_off, loan, horizon)
    cash = [-share * one_off if loan is None else 0.0]
    for year in range(1, horizon + 1):
        cash.append(share * (annual * ramp_at(ramp, year) - payments[year - 1]))
    return cash


def financed_npv(net, rate):
    """Net cash of years 0..T, each discounted to year 0, added up."""
    return present_value(net, rate, 0)


def _none(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def close(a, b, relative=1e-9, absolute=0.01):
    """Whether two figures agree (pounds: a penny, or a relative 1e-9 of the larger); "none"
    (None or NaN) agrees only with none."""
    if a == b:  # also two equal infinities
        return True
    if _none(a) or _none(b):
        return _none(a) and _none(b)
    return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
