"""The CLV step of ``segmart build``: read the calibration summary, fit per source, write ``clv.*``.

It runs between two dbt passes: the first builds everything but the models
downstream of source ``clv`` (``--exclude source:clv+``), including the
calibration summary ``intermediate.int_customer_clv_summarised`` and the vars it
needs (``intermediate.int_clv_calibration_periods_derived``); this step fits and
scores; the second pass (``--select source:clv+``) builds the CLV marts. A source
that cannot be fitted (too few repeat buyers) gets a ``not_fitted`` row with the
reason, and the build goes on.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2.extensions

from segmart.clv.fit import BgNbdParams, ClvFitError, GammaGammaParams, fit_bgnbd, fit_gamma_gamma, spend_fit_mask
from segmart.clv.score import expected_purchases, score_customers

log = logging.getLogger("segmart.clv")

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
SUMMARY = "intermediate.int_customer_clv_summarised"
PERIODS = "intermediate.int_clv_calibration_periods_derived"
HORIZONS_DAYS = (30, 90, 365)  # the expected_purchases_<n>d columns

FIT_COLUMNS = (
    "source_system fit_scope as_of_date calibration_start_date calibration_end_date customers repeat_buyers "
    "spend_customers excluded_spend_customers r alpha a b bgnbd_log_likelihood p q gamma "
    "gamma_gamma_log_likelihood fit_status fit_message fitted_at fit_seconds"
).split()
SCORE_COLUMNS = [
    "source_system",
    "customer_id",
    "as_of_date",
    "probability_alive",
    *(f"expected_purchases_{days}d" for days in HORIZONS_DAYS),
    "expected_average_spend",
    "clv",
]
HOLDOUT_COLUMNS = ["source_system", "customer_id", "holdout_as_of_date", "predicted_purchases"]


@dataclass(frozen=True)
class Period:
    """One source's dates and the vars of the CLV marts, as the first dbt pass saw them."""

    source_system: str
    as_of_date: date
    observed_through_date: date
    holdout_as_of_date: date
    holdout_days: int
    horizon_months: int
    monthly_discount_rate: float
    min_repeat_buyers: int


@dataclass
class Fitted:
    bgnbd: BgNbdParams | None = None
    gamma_gamma: GammaGammaParams | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.bgnbd is None:
            return "not_fitted"
        return "fitted" if self.gamma_gamma is not None else "purchases_only"


def ensure_schema(pg: psycopg2.extensions.connection) -> None:
    with pg.cursor() as cur:
        cur.execute(SCHEMA_SQL.read_text())
    pg.commit()


def _read(pg: psycopg2.extensions.connection, query: str) -> pd.DataFrame:
    buffer = io.StringIO()
    with pg.cursor() as cur:
        cur.copy_expert(f"copy ({query}) to stdout with (format csv, header true)", buffer)
    pg.commit()
    buffer.seek(0)
    return pd.read_csv(buffer, dtype={"source_system": str, "customer_id": str}, keep_default_na=True)


def read_periods(pg: psycopg2.extensions.connection) -> list[Period]:
    with pg.cursor() as cur:
        cur.execute(
            f"""
            select source_system, as_of_date, observed_through_date, holdout_as_of_date, holdout_days,
                horizon_months, monthly_discount_rate, min_repeat_buyers
            from {PERIODS} order by source_system
            """  # noqa: S608 (a constant relation name)
        )
        out = [
            Period(s, d1, d2, d3, int(hd), int(hm), float(rate), int(mrb))
            for s, d1, d2, d3, hd, hm, rate, mrb in cur.fetchall()
        ]
    pg.commit()
    return out


def read_summary(pg: psycopg2.extensions.connection) -> pd.DataFrame:
    return _read(
        pg,
        f"""
        select source_system, customer_id, first_purchase_date, repeat_purchases, recency_span_days,
            customer_age_days, mean_repeat_spend, is_in_holdout, holdout_repeat_purchases,
            holdout_recency_span_days, holdout_customer_age_days, holdout_mean_repeat_spend
        from {SUMMARY}
        """,  # noqa: S608 (a constant relation name)
    )


def _fit(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, spend: np.ndarray, minimum: int, what: str) -> Fitted:
    fitted = Fitted()
    started = time.perf_counter()
    try:
        fitted.bgnbd = fit_bgnbd(x, t_x, big_t, min_repeat_buyers=minimum)
        fitted.gamma_gamma = fit_gamma_gamma(x, spend, min_repeat_buyers=minimum)
    except ClvFitError as exc:
        fitted.message = f"{what}: {exc}"
        log.warning("CLV %s not fitted: %s", what, exc)
    fitted.seconds = time.perf_counter() - started
    return fitted


def _fit_row(
    period: Period,
    scope: str,
    fitted: Fitted,
    customers: pd.DataFrame,
    spend: np.ndarray,
    x: np.ndarray,
    start: date | None,
    fitted_at: datetime,
) -> dict[str, object]:
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    used = int(spend_fit_mask(x, spend).sum())
    return {
        "source_system": period.source_system,
        "fit_scope": scope,
        "as_of_date": period.as_of_date if scope == "forecast" else period.holdout_as_of_date,
        "calibration_start_date": start,
        "calibration_end_date": period.observed_through_date
        if scope == "forecast"
        else period.holdout_as_of_date - timedelta(days=1),
        "customers": len(customers),
        "repeat_buyers": int((x > 0).sum()),
        "spend_customers": used,
        "excluded_spend_customers": int((x > 0).sum()) - used,
        "r": bg.r if bg else None,
        "alpha": bg.alpha if bg else None,
        "a": bg.a if bg else None,
        "b": bg.b if bg else None,
        "bgnbd_log_likelihood": bg.log_likelihood if bg else None,
        "p": gg.p if gg else None,
        "q": gg.q if gg else None,
        "gamma": gg.gamma if gg else None,
        "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
        "fit_status": fitted.status,
        "fit_message": fitted.message,
        "fitted_at": fitted_at,
        "fit_seconds": fitted.seconds,
    }


def score_source(
    period: Period, rows: pd.DataFrame, fitted_at: datetime
) -> tuple[list[dict[str, object]], pd.DataFrame, pd.DataFrame]:
    """Both fits of one source: (model_fits rows, customer_scores frame, holdout_scores frame)."""
    fits = []
    x = rows["repeat_purchases"].to_numpy(dtype=np.float64)
    t_x = rows["recency_span_days"].to_numpy(dtype=np.float64)
    big_t = rows["customer_age_days"].to_numpy(dtype=np.float64)
    spend = rows["mean_repeat_spend"].to_numpy(dtype=np.float64)
    start = pd.to_datetime(rows["first_purchase_date"]).min().date() if len(rows) else None
    forecast = _fit(x, t_x, big_t, spend, period.min_repeat_buyers, f"source {period.source_system}")
    fits.append(_fit_row(period, "forecast", forecast, rows, spend, x, start, fitted_at))
    scores = pd.DataFrame(columns=SCORE_COLUMNS)
    if forecast.bgnbd is not None:
        columns = score_customers(
            forecast.bgnbd,
            forecast.gamma_gamma,
            x,
            t_x,
            big_t,
            spend,
            horizons=HORIZONS_DAYS,
            months=period.horizon_months,
            monthly_discount_rate=period.monthly_discount_rate,
        )
        broken = {name: int((~np.isfinite(values)).sum()) for name, values in columns.items()}
        broken = {name: n for name, n in broken.items() if n}
        if broken:  # never a NULL or NaN forecast: the source is reported instead
            bg = forecast.bgnbd
            forecast.message = (
                f"source {period.source_system}: the fitted model gives no finite {', '.join(broken)} for "
                f"{max(broken.values())} customers (r={bg.r:.4g}, alpha={bg.alpha:.4g}, a={bg.a:.4g}, b={bg.b:.4g})"
            )
            log.warning("CLV %s", forecast.message)
            forecast.bgnbd = forecast.gamma_gamma = None
            fits[0] = _fit_row(period, "forecast", forecast, rows, spend, x, start, fitted_at)
        else:
            scores = pd.DataFrame(
                {
                    "source_system": period.source_system,
                    "customer_id": rows["customer_id"].to_numpy(),
                    "as_of_date": period.as_of_date,
                    **columns,
                },
                columns=SCORE_COLUMNS,
            )
    cal = rows[rows["is_in_holdout"].astype(str).str.lower().isin(("t", "true"))]
    hx = cal["holdout_repeat_purchases"].to_numpy(dtype=np.float64)
    htx = cal["holdout_recency_span_days"].to_numpy(dtype=np.float64)
    ht = cal["holdout_customer_age_days"].to_numpy(dtype=np.float64)
    hspend = cal["holdout_mean_repeat_spend"].to_numpy(dtype=np.float64)
    holdout = _fit(hx, htx, ht, hspend, period.min_repeat_buyers, f"source {period.source_system} (holdout)")
    fits.append(_fit_row(period, "holdout", holdout, cal, hspend, hx, start, fitted_at))
    predicted = pd.DataFrame(columns=HOLDOUT_COLUMNS)
    expected = (
        expected_purchases(holdout.bgnbd, float(period.holdout_days), hx, htx, ht) if holdout.bgnbd else np.array([])
    )
    if holdout.bgnbd is not None and not np.all(np.isfinite(expected)):
        holdout.message = f"source {period.source_system} (holdout): the fitted model gives no finite prediction"
        log.warning("CLV %s", holdout.message)
        holdout.bgnbd = holdout.gamma_gamma = None
        fits[1] = _fit_row(period, "holdout", holdout, cal, hspend, hx, start, fitted_at)
    if holdout.bgnbd is not None:
        predicted = pd.DataFrame(
            {
                "source_system": period.source_system,
                "customer_id": cal["customer_id"].to_numpy(),
                "holdout_as_of_date": period.holdout_as_of_date,
                "predicted_purchases": expected,
            }
        )
    return fits, scores, predicted


def _copy(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    buffer = io.StringIO()
    frame[columns].to_csv(buffer, index=False, header=False, na_rep="", float_format="%.17g")
    buffer.seek(0)
    cur.copy_expert(f"copy clv.{table} ({', '.join(columns)}) from stdin with (format csv)", buffer)


def run(pg: psycopg2.extensions.connection) -> list[dict[str, object]]:
    """Fit and score every source; rewrite clv.* in one transaction. Returns the model_fits rows."""
    ensure_schema(pg)
    periods = read_periods(pg)
    summary = read_summary(pg)
    fitted_at = datetime.now(UTC)
    fits: list[dict[str, object]] = []
    scores, holdouts = [], []
    for period in periods:
        rows = summary[summary["source_system"] == period.source_system]
        source_fits, source_scores, source_holdout = score_source(period, rows, fitted_at)
        fits += source_fits
        scores.append(source_scores)
        holdouts.append(source_holdout)
        for fit in source_fits:
            log.info(
                "CLV %s %s: %s (%d customers, %d repeat buyers, %.1f s)",
                period.source_system,
                fit["fit_scope"],
                fit["fit_status"],
                fit["customers"],
                fit["repeat_buyers"],
                fit["fit_seconds"],
            )
    with pg.cursor() as cur:
        cur.execute("truncate clv.model_fits, clv.customer_scores, clv.holdout_scores")
        _copy(cur, "model_fits", pd.DataFrame(fits, columns=FIT_COLUMNS), FIT_COLUMNS)
        for frame in scores:
            _copy(cur, "customer_scores", frame, SCORE_COLUMNS)
        for frame in holdouts:
            _copy(cur, "holdout_scores", frame, HOLDOUT_COLUMNS)
    pg.commit()
    return fits
