"""Invest to save (SPEC section 8): discounting, ramps, payback and loan schedules.

Pure arithmetic over numpy arrays, with no knowledge of instances, candidates or plans. Years
are numbered 1..T for savings and repayments (year 0 is the day the one-off cost is spent),
so an array indexed by year t holds year t at position t - 1, except :func:`net_cash`, which
holds years 0..T.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

# the loan terms are read with the run's options (io), and re-exported here with the arithmetic
from ..io.loans import LOAN_FORM, LOAN_KINDS, MAX_LOAN_RATE, LoanTerms, check_loan_horizon, parse_loan  # noqa: F401


def _years(horizon: int) -> np.ndarray:
    if horizon < 0 or int(horizon) != horizon:
        raise ValueError(f"horizon must be a whole number >= 0, not {horizon!r}")
    return np.arange(1, int(horizon) + 1, dtype=float)


def discount_factors(rate: float, horizon: int) -> np.ndarray:
    """(1 + rate)^-t for t = 1..horizon: what a pound in year t is worth today."""
    return (1.0 + rate) ** -_years(horizon)


def annuity(rate: float, horizon: int) -> float:
    """a = sum over t = 1..T of (1 + rho)^-t: today's value of a pound a year (SPEC section 3)."""
    return float(discount_factors(rate, horizon).sum())


def annuity_between(rate: float, first: int, last: int) -> float:
    """a(first..last) = sum over t = first..last of (1 + rho)^-t (SPEC section 5); 0 when
    first > last."""
    if last < first:
        return 0.0
    t = np.arange(int(first), int(last) + 1, dtype=float)
    return float(((1.0 + rate) ** -t).sum())


def ramp_factors(ramp: Sequence[float], horizon: int) -> np.ndarray:
    """ramp_t for t = 1..T: the share of the yearly net saving realised in year t, the last
    value of the list holding for every later year."""
    values = np.asarray(ramp, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("a ramp needs at least one value")
    n = len(_years(horizon))
    if values.size >= n:
        return values[:n].copy()
    return np.concatenate([values, np.full(n - values.size, values[-1])])


def ramped_annuity(ramp: Sequence[float], rate: float, horizon: int) -> float:
    """sum over t = 1..T of ramp_t (1 + rho)^-t, so that NPV = A * this - O (SPEC section 8)."""
    return float((ramp_factors(ramp, horizon) * discount_factors(rate, horizon)).sum())


def npv(annual, one_off, ramp: Sequence[float], rate: float, horizon: int) -> np.ndarray:
    """NPV = sum over t = 1..T of A ramp_t (1 + rho)^-t - O, broadcast over arrays of A and O."""
    return np.asarray(annual, dtype=float) * ramped_annuity(ramp, rate, horizon) - np.asarray(
        one_off, dtype=float
    )


def _trimmed(ramp: Sequence[float]) -> np.ndarray:
    values = np.asarray(ramp, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("a ramp needs at least one value")
    # Trailing repeats of the last value are the tail already, and dropping them is what makes
    # a constant ramp such as [1.0] give exactly O / A.
    end = values.size
    while end > 1 and values[end - 2] == values[-1]:
        end -= 1
    return values[:end]


def payback_years(annual, one_off, ramp: Sequence[float] = (1.0,)) -> np.ndarray:
    """The time in years at which the cumulative undiscounted savings A ramp_t (the last ramp
    value holding for ever) first reach O, interpolated linearly within the year (SPEC
    section 8). NaN ("none") where A <= 0 or the savings never reach O; 0 where O <= 0; with a
    constant ramp [c] exactly O / (A c). Broadcast over arrays of A and O."""
    a, o = np.broadcast_arrays(np.asarray(annual, dtype=float), np.asarray(one_off, dtype=float))
    values = _trimmed(ramp)
    head, last = values[:-1], values[-1]  # years 1..L-1 vary; from year L on, every year is `last`
    result = np.full(a.shape, np.nan)
    todo = a > 0
    result[todo & (o <= 0)] = 0.0
    todo &= o > 0
    cum_before = np.zeros(a.shape)  # savings up to the end of the year before
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for year, share in enumerate(head, start=1):
            saving = a * share
            reached = todo & (cum_before + saving >= o)
            result[reached] = (year - 1) + (o[reached] - cum_before[reached]) / saving[reached]
            todo &= ~reached
            cum_before = cum_before + saving
        saving = a * last
        tail = todo & (saving > 0)  # a saving that is (or underflows to) 0 never gets there
        result[tail] = head.size + (o[tail] - cum_before[tail]) / saving[tail]
    return result


class LoanSchedule(NamedTuple):
    """Yearly amounts for t = 1..T, each of shape (..., T): interest on the balance, principal
    repaid, and their sum, the debt service D_t."""

    interest: np.ndarray
    principal: np.ndarray
    payment: np.ndarray


def loan_schedule(one_off, terms: LoanTerms | None, horizon: int) -> LoanSchedule:
    """Interest, principal and payment of a loan of O repaid from year 1 (SPEC section 8):
    annuity, equal payments O r / (1 - (1 + r)^-Y) (O / Y when r = 0); eip, principal O / Y
    plus interest on the balance at the start of the year; maturity, interest O r a year and O
    with the last. Zero after year Y, and zero throughout when terms is None (no loan)."""
    o = np.asarray(one_off, dtype=float)[..., None]
    t = _years(horizon)
    shape = o.shape[:-1] + t.shape
    if terms is None:
        zero = np.zeros(shape)
        return LoanSchedule(zero, zero.copy(), zero.copy())
    check_loan_horizon(terms, horizon)
    r, y = terms.rate, terms.years
    live = t <= y
    if terms.kind == "annuity":
        if r == 0:
            payment = np.broadcast_to(o / y, shape)
            principal = payment
        else:
            # 1 - (1 + r)^-Y through expm1/log1p: the plain form cancels to 0 for tiny rates
            payment = np.broadcast_to(o * (r / -math.expm1(-y * math.log1p(r))), shape)
            # The principal in payment t is the payment discounted over the Y - t + 1 years to
            # the end, so the principal parts add up to O without walking the balance.
            principal = payment * (1.0 + r) ** -(y - t + 1)
        interest = payment - principal
    elif terms.kind == "eip":
        principal = np.broadcast_to(o / y, shape)
        # the balance outstanding at the start of year t is O (Y - t + 1) / Y
        interest = o * r * (y - t + 1) / y
    else:
        interest = np.broadcast_to(o * r, shape)
        principal = np.where(t == y, o, 0.0)
    interest = np.where(live, interest, 0.0)
    principal = np.where(live, principal, 0.0)
    return LoanSchedule(interest, principal, interest + principal)


def debt_service(one_off, terms: LoanTerms | None, horizon: int) -> np.ndarray:
    """D_t for t = 1..T, shape (..., T): the yearly payments of :func:`loan_schedule`."""
    return loan_schedule(one_off, terms, horizon).payment


def net_cash(
    share, annual, one_off, ramp: Sequence[float], terms: LoanTerms | None, horizon: int
) -> np.ndarray:
    """A council's net cash in years 0..T, shape (..., T + 1) (SPEC section 8): share (A ramp_t
    - D_t) in year t >= 1, and in year 0 -share O without a loan, 0 with one. share is b_i / B
    (1 for the partnership as a whole); share, A and O broadcast together."""
    s, a, o = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (share, annual, one_off)))
    yearly = a[..., None] * ramp_factors(ramp, horizon) - debt_service(o, terms, horizon)
    year0 = -o if terms is None else np.zeros(o.shape)
    return s[..., None] * np.concatenate([year0[..., None], yearly], axis=-1)


def financed_npv(net, rate: float) -> np.ndarray:
    """Financed NPV = sum over t = 0..T of net_t (1 + rho)^-t, over the last axis of net."""
    net = np.asarray(net, dtype=float)
    factors = (1.0 + rate) ** -np.arange(net.shape[-1], dtype=float)
    return (net * factors).sum(axis=-1)


def payback_or_none(annual: float, one_off: float, ramp: Sequence[float] = (1.0,)) -> float | None:
    """:func:`payback_years` of one partnership as plan.json holds it: years, or None when the
    savings never reach the one-off cost. Without a ramp exactly O / A."""
    value = float(payback_years(annual, one_off, ramp))
    return None if math.isnan(value) else value


def option_cash(annual, one_off, ramps, terms: LoanTerms | None, horizon: int) -> np.ndarray:
    """Net cash of whole partnerships in years 0..T, shape (m, T + 1), for m options with
    yearly net savings A (m,), one-off costs O (m,) and ramps (m, T) (each option's ramp_t
    for years 1..T): A ramp_t - D_t in year t, and -O in year 0 without a loan. Debt service
    is proportional to what is borrowed, so it is one schedule scaled by O."""
    a = np.asarray(annual, dtype=float)
    o = np.asarray(one_off, dtype=float)
    unit = debt_service(1.0, terms, horizon)
    yearly = a[:, None] * np.asarray(ramps, dtype=float) - o[:, None] * unit[None, :]
    year0 = -o if terms is None else np.zeros(len(o))
    return np.concatenate([year0[:, None], yearly], axis=1)
