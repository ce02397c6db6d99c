"""Invest to save (SPEC section 8): discounting, ramps, payback and loan schedules.

Pure arithmetic over numpy arrays, with no knowledge of instances, candidates or plans. Years
are numbered 1..T for savings and repayments (year 0 is the day the one-off cost is spent),
so an array indexed by year t holds year t at position t - 1, except :func:`net_cash`, which
holds years 0..T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import InputError

LOAN_KINDS = ("annuity", "eip", "maturity")
LOAN_FORM = "expected RATE:YEARS[:annuity|eip|maturity], e.g. 0.045:10:annuity"
MAX_LOAN_RATE = 1.0  # a yearly rate above 100% is a typo (a percentage), not a loan


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


@dataclass(frozen=True)
class LoanTerms:
    """A loan financing every partnership's one-off cost: yearly rate (a fraction), term in
    whole years and repayment type (annuity, eip or maturity)."""

    rate: float
    years: int
    kind: str = "annuity"

    def __post_init__(self):
        if self.kind not in LOAN_KINDS:
            raise ValueError(f"loan type must be one of {', '.join(LOAN_KINDS)}, not {self.kind!r}")
        if not (math.isfinite(self.rate) and 0.0 <= self.rate <= MAX_LOAN_RATE):
            raise ValueError(f"loan rate must be in [0, {MAX_LOAN_RATE:g}], not {self.rate!r}")
        if isinstance(self.years, bool) or not isinstance(self.years, int) or self.years < 1:
            raise ValueError(f"loan term must be a whole number of years >= 1, not {self.years!r}")

    @property
    def label(self) -> str:
        """For a person: '4.5% over 10 years, annuity'."""
        unit = "year" if self.years == 1 else "years"
        return f"{self.rate * 100:.6g}% over {self.years} {unit}, {self.kind}"

    def to_dict(self) -> dict:
        return {"rate": self.rate, "years": self.years, "kind": self.kind, "label": self.label}


def parse_loan(text: str) -> LoanTerms:
    """Read a --loan value RATE:YEARS[:annuity|eip|maturity] (type annuity by default).
    Raises InputError('--loan', ...) quoting the value for every form it cannot use."""

    def bad(what: str) -> InputError:
        return InputError("--loan", f"{what} in {text!r}; {LOAN_FORM}")

    if not isinstance(text, str) or not text.strip():
        raise bad("no loan terms")
    parts = [p.strip() for p in text.strip().split(":")]
    if len(parts) < 2:
        raise bad("missing YEARS")
    if len(parts) > 3:
        raise bad(f"too many parts ({len(parts)})")
    rate_text, years_text = parts[0], parts[1]
    kind = parts[2].lower() if len(parts) == 3 else "annuity"
    if not rate_text:
        raise bad("missing RATE")
    try:
        rate = float(rate_text)
    except ValueError:
        raise bad(f"RATE {rate_text!r} is not a number") from None
    if not math.isfinite(rate):
        raise bad(f"RATE {rate_text!r} is not a finite number")
    if rate < 0:
        raise bad(f"RATE {rate_text!r} is negative")
    if rate > MAX_LOAN_RATE:
        hint = f" (did you mean {rate / 100:g}?)" if rate <= 100 else ""
        raise bad(f"RATE {rate_text!r} is a yearly fraction above 1{hint}")
    if not years_text:
        raise bad("missing YEARS")
    if not years_text.lstrip("+").isdigit():
        raise bad(f"YEARS {years_text!r} is not a whole number")
    years = int(years_text)
    if years < 1:
        raise bad(f"YEARS {years_text!r} is below 1")
    if kind not in LOAN_KINDS:
        raise bad(f"unknown loan type {parts[2]!r}" if parts[2] else "missing the loan type")
    return LoanTerms(rate=rate, years=years, kind=kind)


def check_loan_horizon(terms: LoanTerms, horizon: int) -> None:
    """SPEC section 8 asks YEARS <= T: a loan must be repaid within the horizon it is judged on."""
    if terms.years > horizon:
        raise InputError(
            "--loan",
            f"the loan runs {terms.years} years, longer than the model's horizon of {horizon} "
            f"years; YEARS must be at most {horizon}",
        )


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
