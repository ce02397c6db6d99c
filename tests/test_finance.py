"""Invest to save (SPEC section 8): the finance arithmetic, checked by hand-worked numbers, by
properties every loan must have, and against the plain-Python draft of the verifier."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.verify import finance as draft
from optimiser.economics import finance
from optimiser.economics.finance import LoanTerms
from optimiser.errors import InputError


def schedule(one_off, rate, years, kind, horizon=None):
    return finance.loan_schedule(one_off, LoanTerms(rate, years, kind), horizon or years)


# ----------------------------------------------------------------------------- discounting


def test_discount_factors_and_annuity():
    # 1/1.1 = 0.909090..., 1/1.21 = 0.826446...; their sum is 1.735537...
    assert finance.discount_factors(0.1, 2) == pytest.approx([1 / 1.1, 1 / 1.21], rel=1e-15)
    assert finance.annuity(0.1, 2) == pytest.approx(1 / 1.1 + 1 / 1.21, rel=1e-15)
    assert finance.annuity(0.0, 7) == 7.0
    assert finance.annuity(0.05, 0) == 0.0


def test_annuity_matches_the_models_sum():
    # SavingsModel.annuity is the plain Python sum of (1 + rho)^-t
    for rate, horizon in [(0.035, 10), (0.0, 5), (0.2, 30), (0.07, 1)]:
        expected = sum((1.0 + rate) ** -t for t in range(1, horizon + 1))
        assert finance.annuity(rate, horizon) == pytest.approx(expected, rel=1e-12)


def test_annuity_between():
    # a(2..3) at 10% = 1/1.21 + 1/1.331 = 0.826446 + 0.751315 = 1.577761
    assert finance.annuity_between(0.1, 2, 3) == pytest.approx(1 / 1.21 + 1 / 1.331, rel=1e-15)
    assert finance.annuity_between(0.1, 4, 3) == 0.0
    # a(1..k) + a(k+1..T) = a(1..T)
    assert finance.annuity_between(0.035, 1, 3) + finance.annuity_between(0.035, 4, 10) == (
        pytest.approx(finance.annuity(0.035, 10), rel=1e-14)
    )


def test_ramp_factors():
    assert list(finance.ramp_factors([0.25, 0.5], 5)) == [0.25, 0.5, 0.5, 0.5, 0.5]
    assert list(finance.ramp_factors([0.1, 0.2, 0.3, 0.4], 2)) == [0.1, 0.2]
    assert list(finance.ramp_factors([1.0], 3)) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        finance.ramp_factors([], 3)


def test_ramped_annuity_and_npv():
    # ramp [0.5, 1.0] at 10% over 3 years: 0.5/1.1 + 1/1.21 + 1/1.331
    # = 0.454545 + 0.826446 + 0.751315 = 2.032307
    expected = 0.5 / 1.1 + 1 / 1.21 + 1 / 1.331
    assert finance.ramped_annuity([0.5, 1.0], 0.1, 3) == pytest.approx(expected, rel=1e-14)
    npv = finance.npv([100.0, 200.0], [50.0, 0.0], [0.5, 1.0], 0.1, 3)
    assert npv == pytest.approx([100 * expected - 50, 200 * expected], rel=1e-14)


@given(
    annual=st.floats(-1e7, 1e7),
    one_off=st.floats(0, 1e8),
    rate=st.floats(0, 0.3),
    horizon=st.integers(1, 40),
)
def test_default_ramp_is_section_3(annual, one_off, rate, horizon):
    a = sum((1.0 + rate) ** -t for t in range(1, horizon + 1))
    assert finance.ramped_annuity([1.0], rate, horizon) == pytest.approx(a, rel=1e-12)
    value = float(finance.npv(annual, one_off, [1.0], rate, horizon))
    assert value == pytest.approx(annual * a - one_off, rel=1e-12, abs=1e-6)


# ------------------------------------------------------------------------------- payback


def test_payback_with_a_ramp():
    # A = 100, ramp [0.5, 1.0], O = 120: year 1 brings 50, year 2 brings 100, so 120 is reached
    # 70/100 of the way through year 2: 1.7 years
    assert finance.payback_years(100.0, 120.0, [0.5, 1.0]) == pytest.approx(1.7, rel=1e-14)
    # O = 40 is reached within year 1: 40/50 = 0.8 years
    assert finance.payback_years(100.0, 40.0, [0.5, 1.0]) == pytest.approx(0.8, rel=1e-14)
    # beyond the ramp: ramp [0.2, 0.6], A = 100, O = 500; years 1-2 bring 20 + 60 = 80, then
    # 60 a year for the remaining 420: 2 + 7 = 9 years
    assert finance.payback_years(100.0, 500.0, [0.2, 0.6]) == pytest.approx(9.0, rel=1e-14)
    # exactly at a year's end: ramp [0.5, 1.0], O = 150 -> 2.0
    assert finance.payback_years(100.0, 150.0, [0.5, 1.0]) == pytest.approx(2.0, rel=1e-14)


def test_payback_without_a_ramp_is_o_over_a():
    annual = np.array([100.0, 3.0, 7.5, 1e6, 0.1])
    one_off = np.array([120.0, 1.0, 1000.0, 3.3e7, 9.0])
    assert np.array_equal(finance.payback_years(annual, one_off), one_off / annual)
    assert np.array_equal(finance.payback_years(annual, one_off, [1.0, 1.0, 1.0]), one_off / annual)


@given(annual=st.floats(1e-3, 1e8), one_off=st.floats(0, 1e9))
def test_payback_default_ramp_exact(annual, one_off):
    assert float(finance.payback_years(annual, one_off, [1.0])) == one_off / annual


def test_payback_none_and_zero():
    got = finance.payback_years([0.0, -5.0, 100.0, 100.0, math.nan], [10.0, 10.0, 0.0, 10.0, 1.0])
    assert math.isnan(got[0]) and math.isnan(got[1]) and math.isnan(got[4])
    assert got[2] == 0.0 and got[3] == 0.1
    # the last ramp value 0 and the savings stop short: never
    assert math.isnan(finance.payback_years(100.0, 500.0, [1.0, 0.5, 0.0]))
    # ... but reached before the savings stop: 1 + 40/50 = 1.8
    assert finance.payback_years(100.0, 140.0, [1.0, 0.5, 0.0]) == pytest.approx(1.8)
    # a delayed start: ramp [0, 0, 1], A = 10, O = 15 -> 2 + 1.5 = 3.5
    assert finance.payback_years(10.0, 15.0, [0.0, 0.0, 1.0]) == pytest.approx(3.5)


def test_payback_broadcasts():
    got = finance.payback_years(np.array([[100.0], [50.0]]), np.array([120.0, 40.0]), [0.5, 1.0])
    # A = 50: year 1 brings 25, year 2 brings 50: 120 -> 2 + 45/50 = 2.9; 40 -> 1 + 15/50 = 1.3
    assert got.shape == (2, 2)
    assert got == pytest.approx(np.array([[1.7, 0.8], [2.9, 1.3]]), rel=1e-14)


# ----------------------------------------------------------------------------- loan schedules


def test_annuity_schedule_by_hand():
    # O = 1000, r = 5%, Y = 3: payment = 50 / (1 - 1.05^-3) = 50 / 0.1361624 = 367.2086
    # year 1: interest 50.0000, principal 317.2086, balance 682.7914
    # year 2: interest 34.1396, principal 333.0690, balance 349.7224
    # year 3: interest 17.4861, principal 349.7225, balance 0
    s = schedule(1000.0, 0.05, 3, "annuity", horizon=5)
    assert s.payment == pytest.approx([367.2086, 367.2086, 367.2086, 0, 0], abs=1e-4)
    assert s.interest == pytest.approx([50.0, 34.1396, 17.4861, 0, 0], abs=1e-4)
    assert s.principal == pytest.approx([317.2086, 333.0690, 349.7224, 0, 0], abs=1e-4)


def test_eip_schedule_by_hand():
    # O = 1000, r = 10%, Y = 4: principal 250 a year; balances at the start 1000, 750, 500, 250
    # give interest 100, 75, 50, 25, so payments 350, 325, 300, 275
    s = schedule(1000.0, 0.10, 4, "eip", horizon=6)
    assert s.payment == pytest.approx([350, 325, 300, 275, 0, 0], abs=1e-9)
    assert s.interest == pytest.approx([100, 75, 50, 25, 0, 0], abs=1e-9)
    assert s.principal == pytest.approx([250, 250, 250, 250, 0, 0], abs=1e-9)


def test_maturity_schedule_by_hand():
    # O = 1000, r = 4%, Y = 3: interest 40 a year, the 1000 with the last: 40, 40, 1040
    s = schedule(1000.0, 0.04, 3, "maturity", horizon=4)
    assert s.payment == pytest.approx([40, 40, 1040, 0], abs=1e-9)
    assert s.principal == pytest.approx([0, 0, 1000, 0], abs=1e-9)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("annuity", [250, 250, 250, 250, 0]),  # O / Y = 1000 / 4
        ("eip", [250, 250, 250, 250, 0]),  # principal O / Y, no interest
        ("maturity", [0, 0, 0, 1000, 0]),  # no interest, the whole O with the last
    ],
)
def test_rate_zero(kind, expected):
    s = schedule(1000.0, 0.0, 4, kind, horizon=5)
    assert list(s.payment) == expected
    assert list(s.interest) == [0.0] * 5


def test_debt_service_is_vectorised_and_zero_without_a_loan():
    terms = LoanTerms(0.05, 3, "annuity")
    got = finance.debt_service(np.array([1000.0, 2000.0, 0.0]), terms, 4)
    assert got.shape == (3, 4)
    assert got[1] == pytest.approx(2 * got[0], rel=1e-15)
    assert not got[2].any()
    assert not finance.debt_service([1000.0, 5.0], None, 3).any()
    assert finance.debt_service(1000.0, terms, 3).shape == (3,)


def test_a_loan_longer_than_the_horizon_is_refused():
    with pytest.raises(InputError) as err:
        finance.debt_service(1000.0, LoanTerms(0.05, 12, "annuity"), 10)
    assert err.value.source == "--loan"
    assert "12" in err.value.problem and "10" in err.value.problem
    finance.check_loan_horizon(LoanTerms(0.05, 10), 10)


loans = st.builds(
    LoanTerms,
    rate=st.one_of(st.just(0.0), st.floats(0.0, 0.5)),
    years=st.integers(1, 30),
    kind=st.sampled_from(finance.LOAN_KINDS),
)


@settings(max_examples=300)
@given(loan=loans, one_off=st.floats(0, 1e9), extra=st.integers(0, 10))
def test_every_loan_repays_what_it_borrows(loan, one_off, extra):
    horizon = loan.years + extra
    s = finance.loan_schedule(one_off, loan, horizon)
    tol = 1e-9 * max(one_off, 1.0)
    # the principal repaid adds up to O, and nothing is owed after the loan's term
    assert s.principal.sum() == pytest.approx(one_off, rel=1e-10, abs=1e-6)
    assert not s.payment[loan.years :].any()
    # debt service and its parts are never negative
    assert (s.payment >= -tol).all() and (s.interest >= -tol).all() and (s.principal >= -tol).all()
    assert s.payment == pytest.approx(s.interest + s.principal, rel=1e-12, abs=1e-6)
    # a fair loan: its payments, discounted at its own rate, are worth what was borrowed
    pv = float(finance.financed_npv(np.concatenate([[0.0], s.payment]), loan.rate))
    assert pv == pytest.approx(one_off, rel=1e-9, abs=1e-6)


# ----------------------------------------------------------------------- net cash and NPV


def test_net_cash_without_and_with_a_loan():
    # share 0.25, A = 400, ramp [0.5, 1.0], O = 1000, T = 3: savings 200, 400, 400
    cash = finance.net_cash(0.25, 400.0, 1000.0, [0.5, 1.0], None, 3)
    assert cash == pytest.approx([-250, 50, 100, 100], abs=1e-12)
    # with the maturity loan at 4% over 3 years: debt service 40, 40, 1040
    loan = LoanTerms(0.04, 3, "maturity")
    cash = finance.net_cash(0.25, 400.0, 1000.0, [0.5, 1.0], loan, 3)
    assert cash == pytest.approx([0, 40, 90, -160], abs=1e-12)


def test_financed_npv_by_hand():
    # -100 + 60/1.1 + 60/1.21 = -100 + 54.5455 + 49.5868 = 4.1322
    assert finance.financed_npv([-100.0, 60.0, 60.0], 0.1) == pytest.approx(4.1322, abs=1e-4)
    got = finance.financed_npv(np.array([[-100.0, 60.0, 60.0], [0.0, 0.0, 121.0]]), 0.1)
    assert got == pytest.approx([4.1322, 100.0], abs=1e-4)


@given(
    share=st.floats(0, 1),
    annual=st.floats(-1e6, 1e7),
    one_off=st.floats(0, 1e8),
    rate=st.floats(0, 0.2),
    horizon=st.integers(1, 30),
    ramp=st.lists(st.floats(0, 1), min_size=1, max_size=5),
)
def test_without_a_loan_financed_npv_is_the_share_of_npv(share, annual, one_off, rate, horizon, ramp):
    cash = finance.net_cash(share, annual, one_off, ramp, None, horizon)
    expected = share * float(finance.npv(annual, one_off, ramp, rate, horizon))
    scale = share * (abs(annual) * horizon + one_off)
    assert float(finance.financed_npv(cash, rate)) == pytest.approx(expected, abs=1e-9 * scale + 1e-9)


@given(loan=loans, annual=st.floats(0, 1e7), one_off=st.floats(0, 1e8), extra=st.integers(0, 5))
def test_a_loan_at_the_discount_rate_leaves_npv_unchanged(loan, annual, one_off, extra):
    horizon = loan.years + extra
    cash = finance.net_cash(1.0, annual, one_off, [0.3, 1.0], loan, horizon)
    expected = float(finance.npv(annual, one_off, [0.3, 1.0], loan.rate, horizon))
    scale = annual * horizon + one_off
    assert float(finance.financed_npv(cash, loan.rate)) == pytest.approx(expected, abs=1e-9 * scale + 1e-9)


# ------------------------------------------------------------- against the verifier's draft


@settings(max_examples=300)
@given(
    share=st.floats(0, 1),
    annual=st.floats(-1e6, 1e7),
    one_off=st.floats(0, 1e8),
    rate=st.floats(0, 0.2),
    ramp=st.lists(st.floats(0, 1.2), min_size=1, max_size=6),
    loan=st.one_of(st.none(), loans),
    extra=st.integers(0, 8),
)
def test_agrees_with_the_verifier_draft(share, annual, one_off, rate, ramp, loan, extra):
    horizon = (loan.years if loan else 1) + extra
    assert draft.close(finance.annuity(rate, horizon), draft.annuity(rate, horizon), absolute=1e-12)
    assert draft.close(
        finance.ramped_annuity(ramp, rate, horizon) * annual - one_off,
        draft.npv(annual, one_off, ramp, rate, horizon),
    )
    assert draft.close(float(finance.payback_years(annual, one_off, ramp)), draft.payback_years(annual, one_off, ramp))
    terms = None if loan is None else (loan.rate, loan.years, loan.kind)
    ours = finance.debt_service(one_off, loan, horizon)
    theirs = draft.debt_service(one_off, terms, horizon)
    assert all(draft.close(float(x), y) for x, y in zip(ours, theirs, strict=True))
    if loan is not None:
        s = finance.loan_schedule(one_off, loan, horizon)
        rows = draft.loan_schedule(one_off, loan.rate, loan.years, loan.kind, horizon)
        assert all(draft.close(float(i), ri) for i, (ri, _, _) in zip(s.interest, rows, strict=True))
        assert all(draft.close(float(p), rp) for p, (_, rp, _) in zip(s.principal, rows, strict=True))
    net = finance.net_cash(share, annual, one_off, ramp, loan, horizon)
    net_draft = draft.net_cash(share, annual, one_off, ramp, terms, horizon)
    assert all(draft.close(float(x), y) for x, y in zip(net, net_draft, strict=True))
    assert draft.close(float(finance.financed_npv(net, rate)), draft.financed_npv(net_draft, rate))


def test_draft_hand_worked():
    rows = draft.loan_schedule(1000.0, 0.05, 3, "annuity", 3)
    assert [round(p, 4) for _, _, p in rows] == [367.2086] * 3
    assert [p for _, _, p in draft.loan_schedule(1000.0, 0.10, 4, "eip", 4)] == pytest.approx([350, 325, 300, 275])
    assert [p for _, _, p in draft.loan_schedule(1000.0, 0.04, 3, "maturity", 3)] == pytest.approx([40, 40, 1040])
    assert draft.payback_years(100.0, 120.0, [0.5, 1.0]) == pytest.approx(1.7)
    assert draft.payback_years(0.0, 120.0) is None
    assert draft.payback_years(100.0, 500.0, [1.0, 0.0]) is None


# ------------------------------------------------------------------------------ --loan


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.045:10", LoanTerms(0.045, 10, "annuity")),
        ("0.045:10:annuity", LoanTerms(0.045, 10, "annuity")),
        ("0.1:4:eip", LoanTerms(0.1, 4, "eip")),
        (" 0.04 : 3 : Maturity ", LoanTerms(0.04, 3, "maturity")),
        ("0:1", LoanTerms(0.0, 1, "annuity")),
        ("1:2:eip", LoanTerms(1.0, 2, "eip")),
        ("4.5e-2:7", LoanTerms(0.045, 7, "annuity")),
    ],
)
def test_parse_loan(text, expected):
    assert finance.parse_loan(text) == expected


def test_loan_label_and_dict():
    terms = finance.parse_loan("0.045:10")
    assert terms.label == "4.5% over 10 years, annuity"
    assert finance.parse_loan("0.07:1:maturity").label == "7% over 1 year, maturity"
    assert terms.to_dict() == {"rate": 0.045, "years": 10, "kind": "annuity", "label": terms.label}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0.05",
        "0.05:",
        ":10",
        "abc:10",
        "0.05:ten",
        "-0.01:10",
        "nan:10",
        "inf:10",
        "-inf:10",
        "4.5:10",
        "1.01:10",
        "0.05:0",
        "0.05:-3",
        "0.05:2.5",
        "0.05:1e1",
        "0.05:10:balloon",
        "0.05:10:",
        "0.05:10:annuity:extra",
        "5%:10",
        "0.05;10",
    ],
)
def test_bad_loan_strings(text):
    with pytest.raises(InputError) as err:
        finance.parse_loan(text)
    assert err.value.source == "--loan"
    assert repr(text) in err.value.problem  # quotes the value as given
    assert str(err.value).startswith("--loan: ")


def test_bad_loan_not_a_string():
    with pytest.raises(InputError) as err:
        finance.parse_loan(None)
    assert err.value.source == "--loan"


def test_percent_typo_gets_a_hint():
    with pytest.raises(InputError, match=r"did you mean 0\.045"):
        finance.parse_loan("4.5:10")


def test_loan_terms_refuse_nonsense():
    for args in [(0.05, 10, "balloon"), (-0.1, 10, "eip"), (0.05, 0, "eip"), (0.05, 2.5, "eip")]:
        with pytest.raises(ValueError):
            LoanTerms(*args)
