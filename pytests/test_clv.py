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

import re
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
from segmart.clv.score import discounted_value, expected_purchases, expected_spend, p_alive, score_customers

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


def test_scoring_once_per_distinct_summary_equals_scoring_every_customer(cdnow: pd.DataFrame) -> None:
    bg = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    gg = fit_gamma_gamma(cdnow["x"], cdnow["mean_spend"])
    x, t_x, big_t, m = (cdnow[c].to_numpy(dtype=float) for c in ("x", "t_x", "T", "mean_spend"))
    got = score_customers(bg, gg, x, t_x, big_t, m, horizons=(4, 13, 52), months=12, monthly_discount_rate=0.01)
    assert np.array_equal(got["probability_alive"], p_alive(bg, x, t_x, big_t))
    assert np.array_equal(got["expected_purchases_13d"], expected_purchases(bg, 13.0, x, t_x, big_t))
    spend = expected_spend(gg, x, m)
    assert np.array_equal(got["expected_average_spend"], spend)
    value = discounted_value(bg, spend, x, t_x, big_t, months=12, monthly_discount_rate=0.01)
    np.testing.assert_allclose(got["clv"], value, rtol=1e-13, atol=0)
    assert len(np.unique(np.column_stack((x, t_x, big_t)), axis=0)) < len(x)  # the shortcut has work to save


def test_a_fit_with_almost_certain_drop_out_still_scores_finitely() -> None:
    """With a huge a the Euler-transformed term is 0 x inf in floating point; the untransformed one is tame."""
    bg = BgNbdParams(r=0.5, alpha=30.0, a=2e10, b=3.0, log_likelihood=0.0, customers=3, repeat_buyers=2)
    x, t_x, big_t = np.array([0.0, 1.0, 5.0]), np.array([0.0, 10.0, 50.0]), np.array([20.0, 100.0, 200.0])
    got = expected_purchases(bg, 365.0, x, t_x, big_t)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _direct_expectation(bg, 365.0, x, t_x, big_t), rtol=1e-9)


# --- the CLV step and marts in a build --------------------------------------------------------------


def _frame(pg, query: str) -> pd.DataFrame:
    with pg.cursor() as cur:
        cur.execute(query)
        names = [d.name for d in cur.description]
        out = pd.DataFrame(cur.fetchall(), columns=names)
    pg.commit()
    return out


def _reference_scores(fit: pd.Series, summary: pd.DataFrame, months: int, rate: float) -> pd.DataFrame:
    """P(alive), E[Y(t)], E[spend] and CLV from the printed formulas, in plain numpy (no segmart code)."""
    bg = BgNbdParams(fit.r, fit.alpha, fit.a, fit.b, 0.0, 0, 0)
    x = summary["repeat_purchases"].to_numpy(dtype=float)
    t_x = summary["recency_span_days"].to_numpy(dtype=float)
    big_t = summary["customer_age_days"].to_numpy(dtype=float)
    m = np.nan_to_num(summary["mean_repeat_spend"].to_numpy(dtype=float))
    alive = 1 / (
        1
        + (x > 0) * fit.a / np.maximum(fit.b + x - 1, 1e-300) * ((fit.alpha + big_t) / (fit.alpha + t_x)) ** (fit.r + x)
    )
    out = pd.DataFrame({"probability_alive": alive}, index=summary["customer_id"])
    for days in (30, 90, 365):
        out[f"expected_purchases_{days}d"] = _direct_expectation(bg, float(days), x, t_x, big_t)
    spend = fit.p * (fit.gamma + np.where(x > 0, np.maximum(m, 0), 0) * x) / (fit.p * x + fit.q - 1)
    out["expected_average_spend"] = spend
    value, before = np.zeros_like(x), np.zeros_like(x)
    for month in range(1, months + 1):
        upto = _direct_expectation(bg, month * 365.2425 / 12, x, t_x, big_t)
        value += (upto - before) * spend / (1 + rate) ** month
        before = upto
    out["clv"] = value
    return out


def _check_step_against_reference(pg) -> pd.DataFrame:
    fits = _frame(pg, "select * from clv.model_fits where fit_scope = 'forecast' and fit_status = 'fitted'")
    periods = _frame(pg, "select * from intermediate.int_clv_calibration_periods_derived")
    summary = _frame(pg, "select * from intermediate.int_customer_clv_summarised")
    scores = _frame(pg, "select * from clv.customer_scores").set_index("customer_id")
    assert len(fits) >= 1
    for fit in fits.itertuples():
        period = periods.set_index("source_system").loc[fit.source_system]
        rows_ = summary[summary["source_system"] == fit.source_system]
        expected = _reference_scores(fit, rows_, int(period.horizon_months), float(period.monthly_discount_rate))
        got = scores[scores["source_system"] == fit.source_system].loc[expected.index]
        for column in expected.columns:
            np.testing.assert_allclose(
                got[column].to_numpy(dtype=float), expected[column].to_numpy(), rtol=1e-6, atol=0, err_msg=column
            )
    return summary


@pytest.fixture(scope="module")
def sample_built(connection_info):
    """The demo data through `segmart build` (both dbt passes and the CLV step), in the test database."""
    from pytests.support.db import reset_database
    from pytests.support.runs import run_cli
    from segmart import db

    pg = db.connect(connection_info)
    reset_database(pg)
    result = run_cli("build", "--sample", "--no-report")
    assert "status: success (exit 0)" in result.stderr, result.stderr[-3000:]
    yield pg
    pg.close()


@pytest.mark.slow
def test_build_fills_the_clv_marts_for_every_source(sample_built) -> None:
    pg = sample_built
    fits = _frame(pg, "select * from data_mart.clv_model_fit order by source_system, fit_scope")
    assert sorted(zip(fits.source_system, fits.fit_scope, strict=True)) == [
        ("onec", "forecast"),
        ("onec", "holdout"),
        ("uci", "forecast"),
        ("uci", "holdout"),
    ]
    assert set(fits.fit_status) == {"fitted"}, fits[["source_system", "fit_scope", "fit_message"]]
    clv = _frame(pg, "select * from data_mart.customer_clv")
    rfm = _frame(pg, "select source_system, customer_id, rfm_segment from data_mart.customer_rfm")
    assert len(clv) == len(rfm) and clv["is_scored"].all()
    summary = _check_step_against_reference(pg)
    assert summary.groupby("source_system").size().to_dict() == clv.groupby("source_system").size().to_dict()
    # the mart holds the step's numbers, rounded to its scale
    scores = _frame(pg, "select customer_id, source_system, clv from clv.customer_scores")
    merged = clv.merge(scores, on=["source_system", "customer_id"])
    assert np.allclose(merged["customer_lifetime_value"].astype(float), merged["clv"], atol=0.005, rtol=0)
    # the holdout: totals are the sum of the segments, and the actual purchases are those after the holdout date
    check = _frame(pg, "select * from data_mart.clv_holdout_check")
    for source, rows_ in check.groupby("source_system"):
        total = rows_[rows_["is_source_total"]].iloc[0]
        parts = rows_[~rows_["is_source_total"]]
        assert total.customers == parts["customers"].sum()
        assert total.actual_purchases == parts["actual_purchases"].sum()
        in_holdout = summary[(summary["source_system"] == source) & summary["is_in_holdout"]]
        assert total.customers == len(in_holdout)
        assert total.actual_purchases == in_holdout["holdout_actual_purchases"].sum()
        assert 0.3 < float(total.predicted_to_actual_ratio) < 3


@pytest.mark.slow
def test_the_report_data_and_lists_carry_the_clv_marts(sample_built, tmp_path: Path) -> None:
    """The data layer of the CLV section and the XLSX columns (the page itself needs chromium: test_report.py)."""
    import openpyxl

    from segmart.report import write_reports
    from segmart.report.data import TOP_CLV_CUSTOMERS, read_report_data

    pg = sample_built
    report = read_report_data(pg)
    clv = _frame(pg, "select * from data_mart.customer_clv")
    for source in report.sources:
        mine = clv[clv["source_system"] == source.source_system]
        segments = source.blocks["clv_segments"].rows
        assert sum(r["customers"] for r in segments) == len(mine)
        assert float(sum(r["expected_revenue"] for r in segments)) == pytest.approx(
            float(mine["customer_lifetime_value"].sum()), abs=0.01
        )
        gone = {r["rfm_segment"]: float(r["share_gone"]) for r in segments}
        by_segment = mine.groupby("rfm_segment")["is_probably_gone"].mean().to_dict()
        assert gone == pytest.approx(by_segment)
        top = [r["customer_id"] for r in source.blocks["clv_top"].rows]
        expected_top = mine.sort_values(["customer_lifetime_value", "customer_id"], ascending=[False, True])
        assert top == expected_top["customer_id"].head(TOP_CLV_CUSTOMERS).tolist()
        holdout = source.blocks["clv_holdout"].rows
        assert holdout[0]["is_source_total"] and not any(r["is_source_total"] for r in holdout[1:])
    files = write_reports(pg, tmp_path, "en", keep=2, csv_delimiter=",")
    html = next(p for p in files if p.suffix == ".html").read_text(encoding="utf-8")
    uci = clv[clv["source_system"] == "uci"]
    total = f"£{float(uci['customer_lifetime_value'].sum()):,.2f}"
    assert f"Expected revenue of the next 12 months: {total} from {len(uci):,} customers" in html
    book = openpyxl.load_workbook(next(p for p in files if p.name.startswith("segments_uci_") and p.suffix == ".xlsx"))
    headers = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert headers[-3:] == ["P(still buying)", "Purchases next 365 d", "CLV"]
    values = {str(row[0]): row[-1] for sheet in book.worksheets for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(values) == len(uci)
    expected = dict(zip(uci["customer_id"], uci["customer_lifetime_value"].astype(float), strict=True))
    assert values == pytest.approx(expected, abs=0.005)


@pytest.mark.slow
def test_the_clv_section_renders_in_chromium_with_the_marts_figures(sample_built, tmp_path: Path) -> None:
    """The manager report of a `segmart build` (with the CLV step), opened in headless chromium."""
    from pytests.support.browser import CHART_PROBE, Browser, chromium_or_skip
    from segmart.report import write_reports

    chromium_or_skip()
    pg = sample_built
    html = next(p for p in write_reports(pg, tmp_path, "en", keep=2, csv_delimiter=",") if p.suffix == ".html")
    with Browser() as browser:
        page = browser.open(html, CHART_PROBE)
    assert page.console_errors == [] and page.exceptions == [] and page.external_requests == []
    charts = {chart["id"]: chart for chart in page.values["charts"]}
    text = page.values["text"]
    clv = _frame(pg, "select * from data_mart.customer_clv")
    for source, mine in clv.groupby("source_system"):
        for chart_id in (f"chart-clv-segments-{source}", f"chart-clv-holdout-{source}"):
            chart = charts.get(chart_id)
            assert chart is not None, f"{chart_id} is not on the page"
            assert chart["svg"] and chart["marks"] > 0 and chart["width"] >= 100, chart_id
        assert len(charts[f"chart-clv-holdout-{source}"]["data"]) == 2  # predicted and actual
        # the sentence above the charts, as a reader sees it (the share probably gone, in per cent)
        gone = 100 * float(mine["is_probably_gone"].mean())
        found = re.search(
            rf"Expected revenue of the next 12 months: \S+ from {len(mine):,} customers; ([0-9.]+)% of them are "
            "probably gone",
            text,
        )
        assert found, source
        assert float(found.group(1)) == pytest.approx(gone, abs=0.1), source
        # the top customers by CLV, in order, with their value
        top = mine.sort_values(["customer_lifetime_value", "customer_id"], ascending=[False, True]).head(3)
        positions = [text.find(str(customer)) for customer in top["customer_id"]]
        assert all(position >= 0 for position in positions) and positions == sorted(positions), source
    uci = clv[clv["source_system"] == "uci"]
    assert f"£{float(uci['customer_lifetime_value'].sum()):,.2f} from {len(uci):,} customers" in text


@pytest.mark.slow
def test_a_source_without_repeat_buyers_is_reported_and_the_build_stays_green(clean_pg, tmp_path: Path) -> None:
    from pytests.support.runs import run_cli
    from segmart.pipeline import sample_files

    lonely = tmp_path / "one_purchase_each.csv"
    lines = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"]
    for n in range(40):  # 40 customers, one invoice each, on different days
        lines.append(f"{500000 + n},85123A,WHITE HEART,2,3/{1 + n % 28}/2011 10:00,2.55,{20000 + n},United Kingdom")
    lonely.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _uci, onec = sample_files()["sales"]
    run_cli("sales", str(lonely), str(onec))
    result = run_cli("build", "--no-report")
    assert "status: success (exit 0)" in result.stderr, result.stderr[-3000:]
    assert "at least 10 repeat buyers" in result.stderr  # logged as a warning
    pg = clean_pg
    fits = _frame(pg, "select * from data_mart.clv_model_fit where source_system = 'uci'")
    assert set(fits.fit_status) == {"not_fitted"}
    messages = dict(zip(fits.fit_scope, fits.fit_message, strict=True))
    assert "this data has 0 of 40 customers" in messages["forecast"]
    assert "this data has 0 of 0 customers" in messages["holdout"]  # nobody had bought 90 days before
    clv = _frame(pg, "select source_system, is_scored from data_mart.customer_clv")
    assert (~clv.loc[clv.source_system == "uci", "is_scored"]).all() and (clv.source_system == "uci").sum() == 40
    assert clv.loc[clv.source_system == "onec", "is_scored"].all()


@pytest.mark.slow
def test_real_uci_expectations_agree_with_an_independent_numpy_derivation(connection_info) -> None:
    from pytests.support.files import real_data_or_skip
    from pytests.support.reference import Marts
    from pytests.support.runs import land_real_file, run_cli

    path = real_data_or_skip()
    pg = land_real_file(connection_info)
    try:
        result = run_cli("build", "--no-report", timeout=3000)
        assert "status: success" in result.stderr, result.stderr[-3000:]
        summary = _check_step_against_reference(pg)
        # the calibration summary itself, recomputed from the file by the pandas reference
        marts = Marts(path)
        docs = marts.customer_documents().reset_index()
        as_of = pd.Timestamp(marts.as_of_date)
        purchases = docs[~docs["is_return"]].groupby(["customer_id", "order_date"])["amount"].sum().reset_index()
        first = purchases.groupby("customer_id")["order_date"].min()
        grouped = purchases.groupby("customer_id")
        ref = pd.DataFrame({"x": grouped.size() - 1})
        ref["t_x"] = (grouped["order_date"].max() - first).dt.days
        ref["T"] = (as_of - pd.Timedelta(days=1) - first).dt.days
        later = purchases[purchases["order_date"] > purchases["customer_id"].map(first)]
        returns = docs[docs["is_return"]].groupby("customer_id")["amount"].sum()
        net = later.groupby("customer_id")["amount"].sum().reindex(ref.index, fill_value=0) + returns.reindex(
            ref.index, fill_value=0
        )
        ref["m"] = (net / 1e6 / ref["x"]).where(ref["x"] > 0)
        got = summary[summary["source_system"] == "uci"].set_index("customer_id").loc[ref.index]
        assert (got["repeat_purchases"].to_numpy() == ref["x"].to_numpy()).all()
        assert (got["recency_span_days"].to_numpy() == ref["t_x"].to_numpy()).all()
        assert (got["customer_age_days"].to_numpy() == ref["T"].to_numpy()).all()
        np.testing.assert_allclose(got["mean_repeat_spend"].astype(float), ref["m"], atol=1e-6, rtol=0)
        negative = int((ref["m"] <= 0).sum())
        fit = _frame(pg, "select * from data_mart.clv_model_fit where source_system = 'uci' and fit_scope = 'forecast'")
        assert int(fit.excluded_spend_customers.iloc[0]) == negative
    finally:
        pg.close()
