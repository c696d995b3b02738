"""The event marts agree with an independent computation on a generated log.

A generated event log (with its planted duplicates and anomalies) is landed and the
event marts built with their data tests. The reference re-reads the CSV with pandas
and recomputes every figure from the rules the models' YAML states, in its own way:
money in Decimal, the ordered funnel as a walk over each window's events in time
order, the trailing-window z-scores in plain Python. Counts, revenue to the cent,
every funnel step and every anomaly flag must agree.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import psycopg2.extensions
import pytest

from loaders.formats import EVENT_FORMATS
from loaders.load import load_files
from pytests.support.db import reset_database, rows
from pytests.support.runs import run_dbt
from segmart import db
from segmart.config import Connection
from segmart.generate.events import EventStats, generate_events

pytestmark = pytest.mark.slow

ROWS = 100_000  # ~7 purchases a day: the planted spikes stand out of the noise (z > 4)
STEPS = ["view", "cart", "checkout", "purchase"]  # dbt_project.yml's event_funnel_steps
AGE_EDGES = [18, 25, 35, 45, 55, 65]
WINDOW_DAYS, MIN_OBSERVATIONS, Z_THRESHOLD = 28, 14, 3
EVENT_MARTS_BUILD = ("build", "--select", "+path:models/marts/events", "--exclude", "resource_type:seed")


@dataclass
class Built:
    pg: psycopg2.extensions.connection
    stats: EventStats
    events: pd.DataFrame  # the reference's de-duplicated events
    read_rows: int


def _age_band(age: float) -> str:
    if math.isnan(age):
        return "unknown"
    for low, high in zip([None, *AGE_EDGES], AGE_EDGES, strict=False):
        if age < high:
            return f"under {high}" if low is None else f"{low}-{high - 1}"
    return f"{AGE_EDGES[-1]}+"


def _reference(path: Path) -> tuple[pd.DataFrame, int]:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    kept = raw.drop_duplicates(["user_id", "event_time", "event_type"], keep="first").copy()
    kept["at"] = pd.to_datetime(kept["event_time"])
    kept["day"] = kept["at"].dt.date
    kept["money"] = [Decimal(v) if v else Decimal(0) for v in kept["value"]]
    kept["is_purchase"] = kept["event_type"] == "purchase"
    kept["age_band"] = [_age_band(float(a) if a else math.nan) for a in kept["age"]]
    kept["category"] = kept["category"].replace("", "(unknown)")
    kept["gender"] = kept["gender"].str.upper().replace("", "(unknown)")
    return kept, len(raw)


def _rounded(value: Decimal, unit: str) -> Decimal:
    """As a cast to numeric(p, s) rounds: half away from zero."""
    return value.quantize(Decimal(unit), rounding=ROUND_HALF_UP)


def _period(day: date, grain: str) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


@pytest.fixture(scope="module")
def built(connection_info: Connection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    where = tmp_path_factory.mktemp("events")
    stats = generate_events(where / "events.csv.gz", rows=ROWS, seed=7)
    pg = db.connect(connection_info)
    reset_database(pg)
    [result] = load_files(pg, [stats.path], EVENT_FORMATS)
    assert result.rows_loaded == ROWS
    run_dbt(*EVENT_MARTS_BUILD, tmp_target=where)
    events, read_rows = _reference(stats.path)
    yield Built(pg, stats, events, read_rows)
    pg.close()


def test_the_load_audit_counts_the_planted_duplicates(built: Built) -> None:
    [(read, loaded, quarantined, duplicates, kept)] = rows(
        built.pg,
        "select rows_read, rows_loaded, rows_quarantined, duplicate_events, events_kept"
        " from data_mart.event_load_audit",
    )
    assert (read, loaded, quarantined) == (built.read_rows, built.read_rows, 0)
    assert built.stats.duplicates > 0
    assert duplicates == built.read_rows - len(built.events) == built.stats.duplicates
    assert kept == len(built.events)


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_key_figures_agree_for_every_period(built: Built, grain: str) -> None:
    ev = built.events.assign(period=[_period(d, grain) for d in built.events["day"]])
    expected = {}
    for period, group in ev.groupby("period"):
        buys = group[group["is_purchase"]]
        expected[period] = (
            len(group),
            group["user_id"].nunique(),
            len(buys),
            buys["user_id"].nunique(),
            sum(buys["money"], Decimal(0)),
        )
    got = {
        period: (events, users, orders, buyers, revenue)
        for period, events, users, orders, buyers, revenue in rows(
            built.pg,
            "select period_start_date, events, active_users, orders, buyers, revenue"
            " from data_mart.event_key_figures where period_grain = %s",
            (grain,),
        )
    }
    assert got == expected
    # the ratios follow from the figures, rounded as the contract says
    for period, aov, arpu, arppu in rows(
        built.pg,
        "select period_start_date, average_order_value, arpu, arppu from data_mart.event_key_figures"
        " where period_grain = %s and orders > 0",
        (grain,),
    ):
        _events, users, orders, buyers, revenue = expected[period]
        assert aov == _rounded(revenue / orders, "0.01")
        assert arpu == _rounded(revenue / users, "0.0001")
        assert arppu == _rounded(revenue / buyers, "0.0001")


def _steps_walked(event_types) -> int:
    """How many funnel steps a window's events (in time order) reach, each after the one before."""
    walked = 0
    for step in event_types:
        if walked < len(STEPS) and step == STEPS[walked]:
            walked += 1
    return walked


def _funnel_reference(ev: pd.DataFrame) -> dict[tuple[str, date, str, int], int]:
    """Users per (grain, period, category, step): a walk over each day window's events in time order."""
    reached: dict[tuple[str, date, str, int], set[str]] = defaultdict(set)
    order = {step: number for number, step in enumerate(STEPS)}
    funnel = ev[ev["event_type"].isin(STEPS)].assign(step_order=lambda f: f["event_type"].map(order))
    # at one instant, an earlier step counts before a later one (the models' ">=")
    funnel = funnel.sort_values(["user_id", "day", "at", "step_order"])
    for category_view in ("(all)", "by category"):
        keys = ["user_id", "day"] if category_view == "(all)" else ["user_id", "day", "category"]
        for key, window in funnel.groupby(keys, sort=False):
            category = "(all)" if category_view == "(all)" else key[2]
            category = "(none)" if category == "(unknown)" else category
            walked = _steps_walked(window["event_type"])
            for grain in ("day", "week", "month"):
                for number in range(1, walked + 1):
                    reached[(grain, _period(key[1], grain), category, number)].add(key[0])
    return {key: len(users) for key, users in reached.items()}


def test_the_funnel_agrees_step_by_step_for_every_period_and_category(built: Built) -> None:
    expected = _funnel_reference(built.events)
    got = {
        (grain, period, category, step): users
        for grain, period, category, step, users in rows(
            built.pg,
            "select period_grain, period_start_date, funnel_category, step_number, reached_users"
            " from data_mart.event_funnel",
        )
    }
    assert len(got) == len(expected)
    assert got == expected
    # the funnel narrows: nobody reaches a step without the one before
    assert all(users <= got[(g, p, c, s - 1)] for (g, p, c, s), users in got.items() if s > 1)


def test_revenue_by_dimension_agrees_to_the_cent(built: Built) -> None:
    ev = built.events.assign(month=[_period(d, "month") for d in built.events["day"]])
    got = {
        (dimension, value, period): (users, revenue)
        for dimension, value, period, users, revenue in rows(
            built.pg,
            "select dimension_name, dimension_value, period_start_date, active_users, revenue"
            " from data_mart.event_revenue_by_dimension where period_grain = 'month'",
        )
    }
    expected = {}
    for dimension, column in (
        ("category", "category"),
        ("city", "city"),
        ("gender", "gender"),
        ("age_band", "age_band"),
    ):
        values = ev[column].replace("", "(unknown)")
        for (value, period), group in ev.assign(slice=values).groupby(["slice", "month"]):
            buys = group[group["is_purchase"]]
            expected[(dimension, value, period)] = (group["user_id"].nunique(), sum(buys["money"], Decimal(0)))
    assert got == expected


def test_hourly_activity_agrees_for_every_year_weekday_and_hour(built: Built) -> None:
    ev = built.events
    expected = {}
    for key, group in ev.groupby([ev["at"].dt.year, ev["at"].dt.dayofweek + 1, ev["at"].dt.hour]):
        buys = group[group["is_purchase"]]
        expected[tuple(int(k) for k in key)] = (len(group), group["user_id"].nunique(), sum(buys["money"], Decimal(0)))
    got = {
        (year, weekday, hour): (events, users, revenue)
        for year, weekday, hour, events, users, revenue in rows(
            built.pg,
            "select activity_year, weekday_number, hour_of_day, events, active_users, revenue"
            " from data_mart.event_hourly_activity",
        )
    }
    assert got == expected
    assert {year for year, _, _ in got} == {2024, 2025}


def _anomaly_reference(ev: pd.DataFrame) -> dict[tuple[date, str, str], tuple[Decimal, float | None]]:
    """(day, slice dimension, value) -> (revenue, z), every day with an event a point of every slice."""
    days = sorted(set(ev["day"]))
    buys = ev[ev["is_purchase"]]
    series: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for day, value, category, gender in zip(buys["day"], buys["money"], buys["category"], buys["gender"], strict=True):
        series[("total", "(all)")][day] += value
        series[("category", category)][day] += value
        series[("gender", gender)][day] += value
    out = {}
    for (dimension, value), by_day in series.items():
        for day in days:
            window = [float(by_day.get(d, 0)) for d in days if day - timedelta(days=WINDOW_DAYS) <= d < day]
            z = None
            if len(window) >= MIN_OBSERVATIONS:
                spread = statistics.stdev(window)
                if spread > 0:
                    z = (float(by_day.get(day, 0)) - statistics.fmean(window)) / spread
            out[(day, dimension, value)] = (by_day.get(day, Decimal(0)), z)
    return out


def test_every_anomaly_flag_agrees_and_the_planted_spikes_are_found(built: Built) -> None:
    expected = _anomaly_reference(built.events)
    got = {
        (day, dimension, value): (revenue, z, flagged)
        for day, dimension, value, revenue, z, flagged in rows(
            built.pg,
            "select event_date, slice_dimension, slice_value, revenue, z_score, is_anomaly"
            " from data_mart.event_value_anomalies",
        )
    }
    assert got.keys() == expected.keys()
    for key, (revenue, z) in expected.items():
        got_revenue, got_z, flagged = got[key]
        assert got_revenue == revenue, key
        assert (got_z is None) == (z is None), key
        if z is not None:
            assert abs(float(got_z) - z) < 1e-4, key
            assert flagged == (abs(z) > Z_THRESHOLD), key
        else:
            assert flagged is False, key
    flagged_total = {day for (day, dimension, _), (_, _, f) in got.items() if f and dimension == "total"}
    spikes = {p.day for p in built.stats.planted if p.kind == "revenue_spike"}
    assert spikes and spikes <= flagged_total
    for planted in built.stats.planted:
        if planted.kind in ("category_spike", "gender_spike"):
            dimension, value = planted.detail.split("=")
            assert got[(planted.day, dimension, value)][2], planted


def test_a_session_window_counts_the_funnel_within_sessions(built: Built, tmp_path: Path) -> None:
    """event_funnel_window: session splits a user's day at gaps of 30 minutes or more."""
    run_dbt(
        "run",
        "--select",
        "int_event_funnel_windows",
        "--vars",
        "{event_funnel_window: session, event_session_gap_minutes: 30}",
        tmp_target=tmp_path,
    )
    try:
        # sessions over all events (any type), cut as the model cuts them
        ordered = built.events.sort_values(["user_id", "at", "event_type"])
        gap = ordered.groupby("user_id")["at"].diff()
        starts = gap.isna() | (gap >= pd.Timedelta(minutes=30))
        ordered = ordered.assign(session=starts.astype(int).groupby(ordered["user_id"]).cumsum())
        steps = ordered[ordered["event_type"].isin(STEPS)]
        steps = steps.assign(step_order=steps["event_type"].map({s: i for i, s in enumerate(STEPS)}))
        expected = set()
        for (user, session), window in steps.sort_values(["user_id", "session", "at", "step_order"]).groupby(
            ["user_id", "session"]
        ):
            walked = _steps_walked(window["event_type"])
            expected |= {(user, int(session), number) for number in range(1, walked + 1)}
        got = set(
            rows(
                built.pg,
                "select user_id, window_number::int, step_number from intermediate.int_event_funnel_windows"
                " where funnel_category = '(all)'",
            )
        )
        assert got == expected
    finally:
        run_dbt("run", "--select", "int_event_funnel_windows", tmp_target=tmp_path)
