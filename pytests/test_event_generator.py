"""The shop event-log generator: layout, exact sizes, determinism, sessions, duplicates and planted anomalies.

No database: every test reads the generated file only.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import random
import re
import statistics
import subprocess
import sys
import tracemalloc
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from segmart.cli import build_parser
from segmart.config import PROJECT_ROOT
from segmart.generate import EventStats, events, generate_events
from segmart.generate.events import CATEGORIES, CITIES, DEFAULT_PATH, EVENT_TYPES, HEADER, MIN_DAYS

ROWS = 300_000
SEED = 7
START = date(2024, 1, 1)
TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
MONEY = re.compile(r"\d+\.\d{2}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EventStats, list[list[str]]]:
    path = tmp_path_factory.mktemp("events") / "events.csv"
    stats = generate_events(path, rows=ROWS, seed=SEED)
    rows = _rows(path)
    assert rows[0] == HEADER.split(",")
    return path, stats, rows[1:]


@pytest.fixture(scope="module")
def unique(log: tuple[Path, EventStats, list[list[str]]]) -> list[list[str]]:
    """The lines without their exact copies (first occurrence kept)."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for row in log[2]:
        key = tuple(row)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _by_day(rows: list[list[str]], where=lambda r: True) -> Counter[str]:
    return Counter(r[1][:10] for r in rows if where(r))


def _revenue_by_day(rows: list[list[str]]) -> dict[str, Decimal]:
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if r[2] == "purchase":
            revenue[r[1][:10]] += Decimal(r[3])
    return revenue


def _all_days(start: date = START, days: int = 731) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range(days)]


# ---------------------------------------------------------------- layout and sizes


def test_header_and_fields(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    path, _, rows = log
    data = path.read_bytes()
    assert data.startswith((HEADER + "\n").encode())
    assert HEADER == "user_id,event_time,event_type,value,category,city,gender,age,child_age"
    assert b"\r" not in data and data.endswith(b"\n")
    data.decode("utf-8")
    assert all(len(r) == 9 for r in rows)
    assert all(r[0].isdigit() and int(r[0]) >= 1 for r in rows)
    assert all(TIME.fullmatch(r[1]) for r in rows)
    assert {r[2] for r in rows} == set(EVENT_TYPES) == {"view", "cart", "checkout", "purchase"}
    assert {r[4] for r in rows} == set(CATEGORIES) and "kids" in CATEGORIES and 6 <= len(CATEGORIES) <= 10
    assert {r[5] for r in rows} == set(CITIES) and 8 <= len(CITIES) <= 12
    assert {r[6] for r in rows} == {"F", "M"}
    ages = [int(r[7]) for r in rows]
    assert 18 <= min(ages) and max(ages) <= 75


@pytest.mark.parametrize("rows", [0, 1, 2, 57, 5000, 12_345])
def test_exact_row_count(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "e.csv"
    stats = generate_events(path, rows=rows, seed=3)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == HEADER and lines[-1] == ""
    assert len(lines) - 2 == rows == stats.rows
    assert stats.bytes == path.stat().st_size


def test_span_two_years_and_custom_span(log: tuple[Path, EventStats, list[list[str]]], tmp_path: Path) -> None:
    _, _, rows = log
    times = [r[1] for r in rows]
    assert min(times) >= "2024-01-01 00:00:00" and max(times) <= "2025-12-31 23:59:59"
    days = {t[:10] for t in times}
    assert len(days) == 731  # every day of both years has events
    for t in times[:: len(times) // 500]:
        datetime.strptime(t, "%Y-%m-%d %H:%M:%S")  # a real calendar time
    path = tmp_path / "short.csv"
    generate_events(path, rows=3000, seed=1, start_date=date(2023, 3, 1), days=MIN_DAYS)
    other = {r[1][:10] for r in _rows(path)[1:]}
    assert min(other) == "2023-03-01" and max(other) == (date(2023, 3, 1) + timedelta(days=MIN_DAYS - 1)).isoformat()
    with pytest.raises(ValueError):
        generate_events(tmp_path / "x.csv", rows=10, seed=1, days=MIN_DAYS - 1)


# ---------------------------------------------------------------- determinism and output


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    first = generate_events(a, rows=20_000, seed=5)
    second = generate_events(b, rows=20_000, seed=5)
    third = generate_events(c, rows=20_000, seed=6)
    assert _sha256(a) == _sha256(b)
    assert _sha256(a) != _sha256(c)
    assert first.planted == second.planted and first.revenue == second.revenue
    assert first.planted != third.planted


def test_gzip_output_round_trips_and_is_reproducible(tmp_path: Path) -> None:
    plain, packed, again = tmp_path / "e.csv", tmp_path / "e.csv.gz", tmp_path / "f.csv.gz"
    for path in (plain, packed, again):
        generate_events(path, rows=8000, seed=2)
    assert packed.read_bytes()[:2] == b"\x1f\x8b" and plain.read_bytes()[:2] != b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert _sha256(packed) == _sha256(again)
    assert packed.stat().st_size < plain.stat().st_size


def test_memory_does_not_grow_with_the_rows(tmp_path: Path) -> None:
    peaks = []
    for rows in (10_000, 50_000):
        tracemalloc.start()
        try:
            generate_events(tmp_path / "m.csv", rows=rows, seed=1)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # a list of every line would add well over 100 bytes a line; the user pool and one day's buffer ~10
    assert peaks[1] - peaks[0] < 30 * 40_000


# ---------------------------------------------------------------- columns


def test_values_only_on_purchases(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, _, rows = log
    purchases = [r for r in rows if r[2] == "purchase"]
    assert purchases
    assert all(MONEY.fullmatch(r[3]) and Decimal(r[3]) > 0 for r in purchases)
    assert all(r[3] == "" for r in rows if r[2] != "purchase")
    by_category: dict[str, list[Decimal]] = defaultdict(list)
    for r in purchases:
        by_category[r[4]].append(Decimal(r[3]))
    medians = {c: statistics.median(v) for c, v in by_category.items()}
    assert medians["electronics"] > 3 * medians["books"]  # the amount depends on the category


def test_child_age_only_on_kids_rows(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, _, rows = log
    assert all(r[8] == "" for r in rows if r[4] != "kids")
    kids = [r for r in rows if r[4] == "kids"]
    with_child = [r for r in kids if r[8] != ""]
    assert len(with_child) > 0.5 * len(kids)
    assert all(r[8].isdigit() and 0 <= int(r[8]) <= 14 and int(r[7]) - int(r[8]) >= 18 for r in with_child)
    assert len({r[8] for r in with_child}) == 15


def test_user_attributes_are_fixed(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, stats, rows = log
    attributes: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    child: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        attributes[r[0]].add((r[5], r[6], r[7]))
        if r[4] == "kids":
            child[r[0]].add(r[8])
    assert all(len(v) == 1 for v in attributes.values())
    assert all(len(v) == 1 for v in child.values())  # a parent's child age on every kids row, others none
    assert len(attributes) == stats.users <= stats.user_pool == ROWS // 40
    assert max(int(u) for u in attributes) <= stats.user_pool
    genders = Counter(next(iter(v))[1] for v in attributes.values())
    assert 0.45 < genders["F"] / len(attributes) < 0.65


# ---------------------------------------------------------------- sessions


def test_funnel(unique: list[list[str]], log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, stats, _ = log
    counts = Counter(r[2] for r in unique)
    assert counts["view"] >= counts["cart"] >= counts["checkout"] >= counts["purchase"] > 0
    assert 0.5 < counts["checkout"] / counts["cart"] < 0.7
    assert 0.6 < counts["purchase"] / counts["checkout"] < 0.8
    assert 0.3 < counts["cart"] / stats.sessions < 0.4
    assert stats.sessions <= counts["view"] <= 5 * stats.sessions


def test_session_steps_follow_a_view_of_the_same_category(unique: list[list[str]]) -> None:
    """Every cart, checkout and purchase comes minutes after the step before it: same user, day and category."""
    times: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    for r in unique:
        times[(r[0], r[2], r[4])].append(datetime.strptime(r[1], "%Y-%m-%d %H:%M:%S"))
    before = {"cart": "view", "checkout": "cart", "purchase": "checkout"}
    checked = 0
    for (user, step, category), moments in times.items():
        if step == "view":
            continue
        earlier = times[(user, before[step], category)]
        for moment in moments:
            assert any(timedelta(0) < moment - e <= timedelta(minutes=3) for e in earlier), (user, step, moment)
            checked += 1
    assert checked > 10_000


def test_lines_in_time_order(log: tuple[Path, EventStats, list[list[str]]], unique: list[list[str]]) -> None:
    """The log is written as it happened; only a copy may lag its neighbours, by at most two seconds."""
    times = [r[1] for r in unique]
    assert times == sorted(times)
    latest = ""
    for r in log[2]:
        if r[1] < latest:
            lag = datetime.fromisoformat(latest) - datetime.fromisoformat(r[1])
            assert lag <= timedelta(seconds=2), (r, latest)
        latest = max(latest, r[1])


def test_seasonality(unique: list[list[str]]) -> None:
    hours = Counter(int(r[1][11:13]) for r in unique)
    assert sum(hours[h] for h in (19, 20, 21)) > 5 * sum(hours[h] for h in (2, 3, 4))
    months = Counter(int(r[1][5:7]) for r in unique)
    assert months[12] > 1.5 * months[7] and months[12] == max(months.values())
    assert months[7] < months[4] and months[6] < months[9]
    per_day = _by_day(unique)
    weekend = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() >= 5]
    weekdays = [n for d, n in per_day.items() if date.fromisoformat(d).weekday() < 5]
    assert statistics.mean(weekend) > 1.15 * statistics.mean(weekdays)


# ---------------------------------------------------------------- duplicates and stats


def test_duplicates_are_exact_copies_and_counted(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, stats, rows = log
    keys = Counter((r[0], r[1], r[2]) for r in rows)
    repeats = sum(n - 1 for n in keys.values())
    assert repeats == stats.duplicates
    assert sum(n - 1 for n in Counter(map(tuple, rows)).values()) == repeats  # the whole line is repeated
    assert 0.002 * ROWS < stats.duplicates < 0.004 * ROWS
    assert max(keys.values()) == 2
    first_at: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(rows):
        key = tuple(r)
        if key in first_at:
            assert 1 <= i - first_at[key] <= 10  # right after or a few lines on
        else:
            first_at[key] = i


def test_no_accidental_repeats_even_for_one_busy_user() -> None:
    """Two sessions of a user never share a (user, time, type): only the planted copies repeat one."""
    users = events._make_users(1, 1)  # one user, 20,000 events in one day: chance alone would collide
    day, _ = events._day_events(random.Random(1), users, events._NORMAL_DAY, "2024-01-01 ", 20_000, events._clock())
    keys = Counter(tuple(line.split(",")[:3]) for _, line, tag, _ in day if tag >= 0)
    assert len(day) >= 20_000 and max(keys.values()) == 1
    assert sum(tag < 0 for _, _, tag, _ in day) > 20  # the copies are there


def test_stats_match_the_file(unique: list[list[str]], log: tuple[Path, EventStats, list[list[str]]]) -> None:
    path, stats, rows = log
    purchases = [Decimal(r[3]) for r in unique if r[2] == "purchase"]
    assert stats.purchases == len(purchases)
    assert stats.revenue == sum(purchases) and stats.revenue.as_tuple().exponent == -2
    assert stats.rows == len(rows) == len(unique) + stats.duplicates
    assert stats.users == len({r[0] for r in rows})
    assert stats.path == path and stats.bytes == path.stat().st_size and stats.seconds > 0
    # whole sessions except maybe the last: about three lines each
    assert 2.5 * stats.sessions < len(unique) < 3.7 * stats.sessions


# ---------------------------------------------------------------- planted anomalies


def test_planted_anomalies_are_named(log: tuple[Path, EventStats, list[list[str]]]) -> None:
    _, stats, _ = log
    kinds = Counter(a.kind for a in stats.planted)
    assert kinds == {"revenue_spike": 3, "revenue_drop": 1, "category_spike": 1, "gender_spike": 1}
    days = sorted(a.day for a in stats.planted)
    assert len(set(days)) == len(days)
    assert days[0] >= START + timedelta(days=30) and days[-1] <= date(2025, 12, 31)
    assert all(b - a >= timedelta(days=7) for a, b in pairwise(days))
    for kind, day, detail in stats.planted:  # plain (kind, date, detail) tuples
        assert isinstance(day, date) and isinstance(kind, str) and detail
    category = next(a.detail for a in stats.planted if a.kind == "category_spike")
    gender = next(a.detail for a in stats.planted if a.kind == "gender_spike")
    assert category.removeprefix("category=") in CATEGORIES and gender.removeprefix("gender=") in {"F", "M"}


def test_planted_anomalies_show_in_the_file(
    unique: list[list[str]], log: tuple[Path, EventStats, list[list[str]]]
) -> None:
    _, stats, _ = log
    days = _all_days()
    revenue = _revenue_by_day(unique)
    median_revenue = statistics.median(revenue.get(d, Decimal(0)) for d in days)
    per_day = _by_day(unique)
    median_rows = statistics.median(per_day[d] for d in days)
    for kind, day, detail in stats.planted:
        d = day.isoformat()
        if kind == "revenue_spike":
            assert revenue[d] > 2 * median_revenue, (d, revenue[d], median_revenue)
        elif kind == "revenue_drop":
            assert per_day[d] < 0.5 * median_rows and revenue[d] < median_revenue, d
        elif kind == "category_spike":
            name = detail.removeprefix("category=")
            of_category = _by_day(unique, lambda r, name=name: r[4] == name)
            assert of_category[d] > 3 * statistics.median(of_category[x] for x in days), d
        else:
            letter = detail.removeprefix("gender=")
            of_gender = _by_day(unique, lambda r, letter=letter: r[6] == letter)
            assert of_gender[d] > 2 * statistics.median(of_gender[x] for x in days), d


def test_planted_days_do_not_depend_on_the_size(tmp_path: Path, log: tuple[Path, EventStats, list[list[str]]]) -> None:
    small = generate_events(tmp_path / "small.csv", rows=500, seed=SEED)
    assert small.planted == log[1].planted


# ---------------------------------------------------------------- CLI


def test_cli_generate_events(tmp_path: Path) -> None:
    parser = build_parser()
    out = tmp_path / "cli.csv.gz"
    args = parser.parse_args(["generate", "events", "--rows", "1500", "--seed", "9", "--out", str(out)])
    assert args.func(args) == 0
    with gzip.open(out, "rt", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 1501
    generate_events(tmp_path / "same.csv.gz", rows=1500, seed=9)
    assert _sha256(out) == _sha256(tmp_path / "same.csv.gz")
    defaults = parser.parse_args(["generate", "events", "--rows", "10"])
    assert defaults.out is None and defaults.seed == 42
    assert DEFAULT_PATH == PROJECT_ROOT / "data" / "sample" / "events.csv.gz"
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "events", "--out", str(out)])  # --rows is required
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "events", "--rows", "-1"])


def _segmart(*argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m segmart`` of this checkout (what ``python3 run.py`` runs once .venv is set up)."""
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "segmart", *argv],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_in_a_process(tmp_path: Path) -> None:
    out = tmp_path / "tmp"
    result = _segmart("generate", "events", "--rows", "1000", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER and len(lines) == 1001  # no .gz suffix: plain CSV
    assert "1000 rows" in result.stderr and "planted: " in result.stderr and "revenue_spike" in result.stderr
    short = _segmart("generate", "events", "--rows", "10", "--days", "30", "--out", str(out))
    assert short.returncode == 2 and "days must be >= 120" in short.stderr and "Traceback" not in short.stderr
