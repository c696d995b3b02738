"""Synthetic online-shop event log: ``events.csv(.gz)``, one line per view, cart, checkout or purchase.

Users have a fixed city, gender, age and maybe a child (whose age appears on
``kids`` rows). A session is one user, one category, a few minutes: one to five
views, then with drop-offs a cart, a checkout and a purchase. Sessions are
spread over the days by month and weekday weights and within a day by hour
weights; every day gets its share of the row budget up front, so the file has
exactly ``rows`` lines and covers the whole span.

Days are written one at a time, their events sorted by time: memory holds one
day's events and the compact user pool (10M lines: about 110 MB in all). If the
budget ends within the last day's sessions, the latest lines are left out. No
two events share (user, time, type) except the planted copies: about 0.3% of the
lines are exact copies of an earlier line of the same day, 0-2 seconds of events
later (real logs have them; the loader and dbt drop them).

A few anomalies are planted on days chosen from the seed (at least 30 days after
the start, a week apart): three revenue spikes (purchase values x3, traffic
x3), a drop (traffic x0.3), a spike of one category and one of one gender.
``EventStats.planted`` names them so that tests and the demo can look for them.

Only ``random.Random`` and precomputed tables are used in the loop (no datetime
per row): the same arguments always write the same bytes.
"""

from __future__ import annotations

import logging
import math
import random
import time
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

from segmart.config import PROJECT_ROOT
from segmart.generate.sales.output import open_output

log = logging.getLogger(__name__)

HEADER = "user_id,event_time,event_type,value,category,city,gender,age,child_age"
EVENT_TYPES = ("view", "cart", "checkout", "purchase")
_VIEW, _CART, _CHECKOUT, _PURCHASE = range(len(EVENT_TYPES))
DEFAULT_PATH = PROJECT_ROOT / "data" / "sample" / "events.csv.gz"
START_DATE = date(2024, 1, 1)
DAYS = 731  # 2024-01-01 .. 2025-12-31
MIN_DAYS = 120  # room for the planted days: 30 days of history, then a week between them

# category: (median purchase value, lognormal sigma, weight for women, for men, for parents)
_CATEGORIES: dict[str, tuple[float, float, float, float, float]] = {
    "electronics": (160.0, 0.75, 0.10, 0.24, 0.12),
    "clothing": (48.0, 0.55, 0.22, 0.14, 0.16),
    "home": (62.0, 0.70, 0.15, 0.11, 0.13),
    "beauty": (27.0, 0.50, 0.20, 0.04, 0.10),
    "sports": (55.0, 0.65, 0.07, 0.16, 0.08),
    "books": (16.0, 0.45, 0.09, 0.08, 0.07),
    "grocery": (31.0, 0.40, 0.14, 0.16, 0.12),
    "kids": (36.0, 0.55, 0.03, 0.02, 0.42),
}
CATEGORIES = tuple(_CATEGORIES)
_KIDS = CATEGORIES.index("kids")

_CITIES: dict[str, float] = {
    "Moscow": 0.24,
    "Saint Petersburg": 0.14,
    "Novosibirsk": 0.08,
    "Yekaterinburg": 0.08,
    "Kazan": 0.08,
    "Nizhny Novgorod": 0.08,
    "Chelyabinsk": 0.07,
    "Samara": 0.08,
    "Omsk": 0.07,
    "Rostov-on-Don": 0.08,
}
CITIES = tuple(_CITIES)

# seasonality: hour of day, weekday (Monday first), month (January first)
_HOUR_WEIGHTS = (30, 18, 10, 7, 6, 8, 18, 40, 65, 80, 90, 95, 105, 110, 100, 95, 95, 105, 130, 160, 185, 190, 150, 80)
_WEEKDAY_WEIGHTS = (0.92, 0.90, 0.92, 0.96, 1.04, 1.25, 1.20)
_MONTH_WEIGHTS = (0.90, 0.85, 0.95, 1.00, 0.97, 0.82, 0.76, 0.80, 1.00, 1.06, 1.28, 1.65)

_VIEW_WEIGHTS = (0.36, 0.25, 0.17, 0.12, 0.10)  # 1..5 views per session
_P_CART = 0.35
_P_CHECKOUT = 0.60
_P_PURCHASE = 0.70
_P_FAVOURITE = 0.5  # a session in the user's favourite category
_P_DUPLICATE = 0.003
_GAP_MIN, _GAP_MAX = 4, 150  # seconds between two events of a session
_MIN_CENTS = 50

_REVENUE_SPIKES = 3
_SPIKE_VALUE = 3  # purchase values on a revenue-spike day (a promotion) ...
_SPIKE_TRAFFIC = 3.0  # ... which also brings more sessions (x9 revenue: flagged at z > 3 even at demo size)
_DROP_TRAFFIC = 0.3
_CATEGORY_TRAFFIC = 3.0  # the extra two thirds of the day's sessions are all in one category
_GENDER_TRAFFIC = 3.0  # the extra sessions all come from one gender
_FIRST_PLANTED = 30  # day index: a trailing 28-day window exists before every planted day
_PLANTED_GAP = 7


class PlantedAnomaly(NamedTuple):
    """``kind`` is revenue_spike, revenue_drop, category_spike or gender_spike; ``detail`` says what changed
    (``value x3, traffic x3``, ``traffic x0.3``, ``category=<name>``, ``gender=F|M``)."""

    kind: str
    day: date
    detail: str


@dataclass
class EventStats:
    path: Path
    rows: int  # data lines written (header not counted), duplicates included
    users: int  # distinct user_id in the file
    user_pool: int  # users created (ids 1..user_pool); the inactive ones never appear
    sessions: int  # sessions with at least one line in the file
    purchases: int  # purchase lines, duplicates not counted
    duplicates: int  # lines that repeat an earlier line exactly
    revenue: Decimal  # sum of the purchase values, duplicates not counted
    bytes: int  # file size
    seconds: float  # time taken to write it
    planted: list[PlantedAnomaly] = field(default_factory=list)


@dataclass
class _Users:
    """The user pool, compact (a 10M-line log has 250,000 users): the text tails are shared between users."""

    tail_kids: list[str]  # ",city,gender,age,child_age" for a kids row
    tail_other: list[str]  # ",city,gender,age," for any other row
    group: list[str]  # F, M or P (a parent): which category weights the user's sessions follow
    favourite: list[int]
    cdf: array[float]  # cumulative activity weights of every user ...
    gender_ids: dict[str, array[int]]  # ... and of the users of one gender (indices into the lists above)
    gender_cdf: dict[str, array[float]]


@dataclass
class _Day:
    """What a planted anomaly changes on one day."""

    traffic: float = 1.0
    value: int = 1
    category: int | None = None  # sessions forced into this category with probability ``forced``
    gender: str | None = None  # sessions forced to this gender's users with probability ``forced``
    forced: float = 0.0


_NORMAL_DAY = _Day()


def _cdf(weights: list[float] | tuple[float, ...]) -> list[float]:
    return list(accumulate(weights))


def _draw(rng: random.Random, cdf: list[float]) -> int:
    return min(bisect_right(cdf, rng.random() * cdf[-1]), len(cdf) - 1)


_CITY_CDF = _cdf(list(_CITIES.values()))
_GROUP_CDF = {
    group: _cdf([w[column] for w in _CATEGORIES.values()]) for group, column in (("F", 2), ("M", 3), ("P", 4))
}
_HOUR_CDF = _cdf(_HOUR_WEIGHTS)
_VIEW_CDF = _cdf(_VIEW_WEIGHTS)
_VALUE_LAW = [(math.log(median * 100), sigma) for median, sigma, *_ in _CATEGORIES.values()]  # of the cents


def _make_users(seed: int, n: int) -> _Users:
    rng = random.Random(f"segmart-events-users-{seed}")
    users = _Users([], [], [], [], array("d"), {"F": array("l"), "M": array("l")}, {"F": array("d"), "M": array("d")})
    tails: dict[tuple[str, str, int, int | None], tuple[str, str]] = {}
    total = 0.0
    gender_total = {"F": 0.0, "M": 0.0}
    for index in range(n):
        city = CITIES[_draw(rng, _CITY_CDF)]
        gender = "F" if rng.random() < 0.55 else "M"
        age = min(75, 18 + int(rng.gammavariate(2.2, 8.0)))
        p_child = 0.45 if 25 <= age <= 50 else 0.08
        child = rng.randint(0, min(14, age - 18)) if rng.random() < p_child else None
        activity = rng.lognormvariate(0.0, 1.0)
        group = gender if child is None else "P"
        key = (city, gender, age, child)
        if key not in tails:
            common = f",{city},{gender},{age},"
            tails[key] = (common, common if child is None else f"{common}{child}")
        other, kids = tails[key]
        users.tail_other.append(other)
        users.tail_kids.append(kids)
        users.group.append(group)
        users.favourite.append(_draw(rng, _GROUP_CDF[group]))
        total += activity
        users.cdf.append(total)
        gender_total[gender] += activity
        users.gender_ids[gender].append(index)
        users.gender_cdf[gender].append(gender_total[gender])
    return users


def _plan(seed: int, start: date, days: int) -> tuple[dict[int, _Day], list[PlantedAnomaly]]:
    """The planted anomalies: which day indices, what changes there; depends on the seed and the span only."""
    rng = random.Random(f"segmart-events-plan-{seed}")
    kinds = ["revenue_spike"] * _REVENUE_SPIKES + ["revenue_drop", "category_spike", "gender_spike"]
    room = days - _FIRST_PLANTED - (len(kinds) - 1) * (_PLANTED_GAP - 1)
    picks = sorted(rng.sample(range(room), len(kinds)))
    indices = [_FIRST_PLANTED + p + i * (_PLANTED_GAP - 1) for i, p in enumerate(picks)]
    rng.shuffle(kinds)
    effects: dict[int, _Day] = {}
    planted: list[PlantedAnomaly] = []
    for index, kind in zip(indices, kinds, strict=True):
        if kind == "revenue_spike":
            effects[index] = _Day(traffic=_SPIKE_TRAFFIC, value=_SPIKE_VALUE)
            detail = f"value x{_SPIKE_VALUE}, traffic x{_SPIKE_TRAFFIC}"
        elif kind == "revenue_drop":
            effects[index] = _Day(traffic=_DROP_TRAFFIC)
            detail = f"traffic x{_DROP_TRAFFIC}"
        elif kind == "category_spike":
            category = rng.randrange(len(CATEGORIES))
            effects[index] = _Day(traffic=_CATEGORY_TRAFFIC, category=category, forced=1 - 1 / _CATEGORY_TRAFFIC)
            detail = f"category={CATEGORIES[category]}"
        else:
            gender = rng.choice("FM")
            effects[index] = _Day(traffic=_GENDER_TRAFFIC, gender=gender, forced=1 - 1 / _GENDER_TRAFFIC)
            detail = f"gender={gender}"
        planted.append(PlantedAnomaly(kind, start + timedelta(days=index), detail))
    return effects, planted


def _day_targets(rows: int, start: date, days: int, effects: dict[int, _Day]) -> list[int]:
    """Cumulative row budget at the end of each day, by the day's weight; the last is ``rows``."""
    weights = []
    for i in range(days):
        day = start + timedelta(days=i)
        effect = effects.get(i)
        weights.append(
            _MONTH_WEIGHTS[day.month - 1] * _WEEKDAY_WEIGHTS[day.weekday()] * (effect.traffic if effect else 1.0)
        )
    cum = _cdf(weights)
    targets = [round(rows * c / cum[-1]) for c in cum]
    targets[-1] = rows
    return targets


def _clock() -> list[str]:
    """``HH:MM:SS`` for every second of a day."""
    return [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


@dataclass
class _Tally:
    rows: int = 0
    sessions: int = 0
    purchases: int = 0
    duplicates: int = 0
    cents: int = 0
    seen: bytearray = field(default_factory=bytearray)  # 1 for each user_id - 1 in the file


# one event of a day's buffer: (sort key, line, purchase cents / 0 / -1 for a duplicate, session number)
_Event = tuple[int, str, int, int]
_KEY = 1 << 32  # sort key: second of the day * _KEY + sequence number within the day


def _day_events(
    rng: random.Random, users: _Users, effect: _Day, stamp: str, budget: int, clock: list[str]
) -> tuple[list[_Event], list[int]]:
    """One day's events sorted by time, at least ``budget`` lines (whole sessions), and each session's user."""
    random_ = rng.random
    gauss = rng.gauss
    exp = math.exp
    forced_gender = effect.forced if effect.gender else 0.0
    forced_category = effect.forced if effect.category is not None else 0.0
    value_factor = effect.value
    user_cdf = users.cdf
    last_user = len(user_cdf) - 1
    events: list[_Event] = []
    append = events.append
    session_users: list[int] = []
    taken: set[int] = set()  # (user, second, event type) of the day's events
    seq = 0
    while seq < budget:
        sid = len(session_users)
        if forced_gender and random_() < forced_gender:
            ids, cdf = users.gender_ids[effect.gender], users.gender_cdf[effect.gender]  # type: ignore[index]
            user = ids[min(bisect_right(cdf, random_() * cdf[-1]), len(ids) - 1)]
        else:
            user = min(bisect_right(user_cdf, random_() * user_cdf[-1]), last_user)
        session_users.append(user)
        if forced_category and random_() < forced_category:
            category = effect.category
        elif random_() < _P_FAVOURITE:
            category = users.favourite[user]
        else:
            cdf = _GROUP_CDF[users.group[user]]
            category = min(bisect_right(cdf, random_() * cdf[-1]), len(cdf) - 1)
        steps = [_VIEW] * (1 + min(bisect_right(_VIEW_CDF, random_() * _VIEW_CDF[-1]), len(_VIEW_CDF) - 1))
        if random_() < _P_CART:
            steps.append(_CART)
            if random_() < _P_CHECKOUT:
                steps.append(_CHECKOUT)
                if random_() < _P_PURCHASE:
                    steps.append(_PURCHASE)
        gaps = [_GAP_MIN + int(random_() * (_GAP_MAX - _GAP_MIN)) for _ in range(len(steps) - 1)]
        latest = 86399 - sum(gaps)  # the session ends the same day
        base = user * 4 * 86400
        while True:  # a start where no event repeats (user, time, type) of an earlier session: only copies do
            hour = min(bisect_right(_HOUR_CDF, random_() * _HOUR_CDF[-1]), 23)
            times = list(accumulate(gaps, initial=min(hour * 3600 + int(random_() * 3600), latest)))
            keys = [base + 4 * second + step for second, step in zip(times, steps, strict=True)]
            if taken.isdisjoint(keys):
                break
        taken.update(keys)
        head = f"{user + 1},{stamp}"
        tail = (users.tail_kids if category == _KIDS else users.tail_other)[user]
        rest = f",{CATEGORIES[category]}{tail}"
        for second, step in zip(times, steps, strict=True):
            if step == _PURCHASE:
                mu, sigma = _VALUE_LAW[category]
                cents = max(_MIN_CENTS, round(exp(mu + sigma * gauss())) * value_factor)
                line = f"{head}{clock[second]},purchase,{cents // 100}.{cents % 100:02d}{rest}"
            else:
                cents = 0
                line = f"{head}{clock[second]},{EVENT_TYPES[step]},{rest}"
            append((second * _KEY + seq, line, cents, sid))
            seq += 1
            if random_() < _P_DUPLICATE:  # the copy sorts 0-2 seconds later: right after or a few lines on
                append(((second + int(random_() * 3)) * _KEY + seq, line, -1, sid))
                seq += 1
    events.sort()
    return events, session_users


def _tally(tally: _Tally, events: list[_Event], session_users: list[int], whole: bool) -> None:
    """Add a day's written events; ``whole``: no line of the day was cut, so every session is in."""
    purchases = [cents for _, _, cents, _ in events if cents > 0]
    tally.purchases += len(purchases)
    tally.cents += sum(purchases)
    tally.duplicates += sum(1 for _, _, cents, _ in events if cents < 0)
    sessions = range(len(session_users)) if whole else {sid for _, _, _, sid in events}
    tally.rows += len(events)
    tally.sessions += len(sessions)
    seen = tally.seen
    for sid in sessions:
        seen[session_users[sid]] = 1


def generate_events(
    path: str | Path = DEFAULT_PATH,
    *,
    rows: int,
    seed: int = 42,
    start_date: date = START_DATE,
    days: int = DAYS,
) -> EventStats:
    """Write an event log of exactly ``rows`` data lines plus the header to ``path`` (``.gz``: gzip).

    Events fall in ``[start_date, start_date + days)``; ``days`` must be at least
    ``MIN_DAYS``. The user pool has ``max(50, rows // 40)`` users. Returns an
    ``EventStats`` with the counts, the revenue and the planted anomalies.
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if days < MIN_DAYS:
        raise ValueError(f"days must be >= {MIN_DAYS} (the planted anomalies need room), got {days}")
    started = time.perf_counter()
    out_path = Path(path)
    users = _make_users(seed, max(50, rows // 40))
    effects, planted = _plan(seed, start_date, days)
    targets = _day_targets(rows, start_date, days, effects)
    clock = _clock()
    rng = random.Random(f"segmart-events-sessions-{seed}")
    tally = _Tally(seen=bytearray(len(users.group)))
    with open_output(out_path) as out:
        out.write((HEADER + "\n").encode())
        for index, target in enumerate(targets):
            if tally.rows >= rows:
                break
            stamp = f"{start_date + timedelta(days=index)} "
            budget = target - tally.rows  # the day's share, less what earlier days' last sessions overran
            events, session_users = _day_events(rng, users, effects.get(index, _NORMAL_DAY), stamp, budget, clock)
            whole = tally.rows + len(events) <= rows
            del events[rows - tally.rows :]  # only when the budget ends in this day's last session
            _tally(tally, events, session_users, whole)
            if events:
                out.write(("\n".join(e[1] for e in events) + "\n").encode())
    stats = EventStats(
        path=out_path,
        rows=tally.rows,
        users=tally.seen.count(1),
        user_pool=len(users.group),
        sessions=tally.sessions,
        purchases=tally.purchases,
        duplicates=tally.duplicates,
        revenue=Decimal(tally.cents).scaleb(-2),  # exact: cents / 100
        bytes=out_path.stat().st_size,
        seconds=time.perf_counter() - started,
        planted=planted,
    )
    log.debug("generated %s", stats)
    return stats
