"""Loan terms of ``--loan RATE:YEARS[:annuity|eip|maturity]`` (SPEC section 8), read and checked.

Reading them is part of reading a run's options, so it lives beside the other option
readers; the schedules they give are arithmetic, in :mod:`optimiser.economics.finance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError

LOAN_KINDS = ("annuity", "eip", "maturity")
LOAN_FORM = "expected RATE:YEARS[:annuity|eip|maturity], e.g. 0.045:10:annuity"
MAX_LOAN_RATE = 1.0  # a yearly rate above 100% is a typo (a percentage), not a loan


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


def loan_text(value) -> str | None:
    """A --loan value (text, or LoanTerms) as plan.json records it, ``RATE:YEARS:KIND``; None
    for no loan. Raises InputError('--loan', ...) for anything it cannot read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    terms = value if isinstance(value, LoanTerms) else parse_loan(value)
    return f"{terms.rate!r}:{terms.years}:{terms.kind}"
