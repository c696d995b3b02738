"""Customer lifetime value: the BG/NBD and Gamma-Gamma fits, the scores and the CLV marts.

* CDNOW (the 1/10 sample of Fader, Hardie & Lee 2005: 2,357 customers, 39-week
  calibration ending 1997-09-30): the calibration summary is built here, in pandas,
  from the raw transaction file that the ``lifetimes`` wheel ships as package data
  (read from the installed distribution's files, never by importing ``lifetimes``),
  and the fitted parameters must round to the published ones: BG/NBD r = 0.243,
  alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 (Fader, Hardie & Lee 2005);
  Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers (Fader &
  Hardie 2013).
* Edge cases of the fit and the scores: one-purchase customers, a source without
  repeat buyers, negative net repeat spend.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from segmart.clv.fit import (
    BgNbdParams,
    ClvFitError,
    GammaGammaParams,
    fit_bgnbd,
    fit_gamma_gamma,
    spend_fit_mask,
)
from segmart.clv.score import discounted_value, expected_purchases, expected_spend, p_alive

CDNOW_CALIBRATION_END = pd.Timestamp("1997-09-30")


def _cdnow_file() -> Path:
    try:
        dist = metadata.distribution("lifetimes")
    except metadata.PackageNotFoundError:
        pytest.skip("the lifetimes wheel (requirements.txt, test only: its CDNOW data file) is not installed")
    path = Path(str(dist.locate_file("lifetimes/datasets/CDNOW_sample.txt")))
    if not path.is_file():
        pytest.skip(f"the lifetimes wheel has no CDNOW_sample.txt at {path}")
    return path


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """Per customer: x, t_x, T in weeks and the mean repeat spend, as in the papers (purchases per day)."""
    raw = pd.read_csv(
        _cdnow_file(),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    days = raw.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    first = days.groupby("customer_id")["date"].min().rename("first")
    calibration = days[days["date"] <= CDNOW_CALIBRATION_END].join(first, on="customer_id")
    grouped = calibration.groupby("customer_id")
    out = pd.DataFrame({"x": grouped["date"].count() - 1})
    out["t_x"] = (grouped["date"].max() - first).dt.days / 7
    out["T"] = (CDNOW_CALIBRATION_END - first).dt.days / 7
    repeat_amount = calibration.loc[calibration["date"] > calibration["first"]].groupby("customer_id")["amount"].sum()
    out["mean_spend"] = (repeat_amount / out["x"]).reindex(out.index).fillna(0.0)
    holdout = days[days["date"] > CDNOW_CALIBRATION_END].groupby("customer_id").size()
    out["x_star"] = holdout.reindex(out.index).fillna(0).astype(int)  # purchases in the 39 weeks after
    return out


def test_cdnow_bgnbd_reproduces_fader_hardie_lee_2005(cdnow: pd.DataFrame) -> None:
    assert len(cdnow) == 2357 and int((cdnow["x"] > 0).sum()) == 946
    fit = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert (fit.customers, fit.repeat_buyers) == (2357, 946)


def test_cdnow_gamma_gamma_reproduces_fader_hardie_2013(cdnow: pd.DataFrame) -> None:
    fit = fit_gamma_gamma(cdnow["x"], cdnow["mean_spend"])
    assert fit.customers == 946
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)


def test_the_fit_does_not_depend_on_its_start(cdnow: pd.DataFrame) -> None:
    one = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    other = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"], start=(3.0, 0.2, 0.3, 8.0))
    assert np.allclose([one.r, one.alpha, one.a, one.b], [other.r, other.alpha, other.a, other.b], rtol=1e-4)


def _direct_expectation(params: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """Equation 10 of Fader, Hardie & Lee (2005) as printed, without segmart's Euler transformation."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyper = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyper)
    return numerator / (1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))


def test_cdnow_scores_match_the_printed_formulas(cdnow: pd.DataFrame) -> None:
    fit = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    x, t_x, big_t = (cdnow[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    got = expected_purchases(fit, 39.0, x, t_x, big_t)
    assert np.allclose(got, _direct_expectation(fit, 39.0, x, t_x, big_t), rtol=1e-9, atol=0)
    # the whole base over the 39-week holdout: within 15 % of the purchases that happened
    assert abs(got.sum() / cdnow["x_star"].sum() - 1) < 0.15


def test_a_one_purchase_customer_is_alive_and_gets_the_population_spend() -> None:
    bg = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, customers=1, repeat_buyers=0)
    gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, customers=0)
    x, t_x, big_t = np.array([0.0]), np.array([0.0]), np.array([20.0])
    assert p_alive(bg, x, t_x, big_t)[0] == 1.0
    assert expected_spend(gg, x, np.array([0.0]))[0] == pytest.approx(6.25 * 15.44 / 2.74)
    # no repeat purchase yet: the longer the customer has been silent, the fewer purchases expected
    older = expected_purchases(bg, 10.0, x, t_x, np.array([60.0]))
    assert 0 < older[0] < expected_purchases(bg, 10.0, x, t_x, big_t)[0]


def test_a_source_without_repeat_buyers_gets_a_clear_error() -> None:
    x, t_x, big_t = np.zeros(500), np.zeros(500), np.linspace(1, 300, 500)
    with pytest.raises(ClvFitError, match=r"at least 10 repeat buyers .* 0 of 500 customers"):
        fit_bgnbd(x, t_x, big_t)
    with pytest.raises(ClvFitError, match="positive mean repeat spend; this data has 0"):
        fit_gamma_gamma(x, np.zeros(500))


def test_a_bad_summary_names_the_problem_and_the_row() -> None:
    with pytest.raises(ClvFitError, match=r"t_x after T \(first at row 1: x=1.0, t_x=9.0, T=5.0\)"):
        fit_bgnbd([0, 1, 2], [0, 9, 3], [4, 5, 6])


def test_negative_net_spend_is_left_out_of_the_spend_fit_and_scored_as_zero(cdnow: pd.DataFrame) -> None:
    fitted = fit_gamma_gamma(cdnow["x"], cdnow["mean_spend"])
    tampered = cdnow["mean_spend"].copy()
    buyers = cdnow.index[cdnow["x"] > 0][:20]
    tampered[buyers] = -5.0  # returns larger than the repeat purchases
    mask = spend_fit_mask(cdnow["x"], tampered)
    assert int(mask.sum()) == 946 - 20
    refit = fit_gamma_gamma(cdnow["x"], tampered)
    alone = fit_gamma_gamma(cdnow["x"][mask], cdnow["mean_spend"][mask])
    assert refit.customers == 926 and (refit.p, refit.q, refit.gamma) == (alone.p, alone.q, alone.gamma)
    assert refit.p != fitted.p
    x = cdnow.loc[buyers, "x"].to_numpy(dtype=float)
    spend = expected_spend(refit, x, tampered[buyers].to_numpy())
    assert np.allclose(spend, refit.p * refit.gamma / (refit.p * x + refit.q - 1))
    assert np.all(spend < refit.p * refit.gamma / (refit.q - 1))  # below the population mean


def test_discounted_value_is_the_discounted_sum_of_monthly_purchases() -> None:
    bg = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426, log_likelihood=0.0, customers=1, repeat_buyers=1)
    x, t_x, big_t = np.array([2.0]), np.array([213.0]), np.array([272.0])
    spend = np.array([40.0])
    undiscounted = discounted_value(bg, spend, x, t_x, big_t, months=12, monthly_discount_rate=0.0)
    year = expected_purchases(bg, 365.2425, x, t_x, big_t) * spend
    assert undiscounted[0] == pytest.approx(year[0], rel=1e-12)
    discounted = discounted_value(bg, spend, x, t_x, big_t, months=12, monthly_discount_rate=0.01)
    assert year[0] / 1.01**12 < discounted[0] < year[0] / 1.01
