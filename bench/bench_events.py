"""Event logs at scale: the loader and the event marts' dbt build against pandas, same run.

    python bench/bench_events.py                    # 10,000,000 generated events, 3 runs of each step
    python bench/bench_events.py --rows N --runs R

The log is generated once (``generate_events(rows=N, seed=1)``, gzip). Each run:

  load      ``python -m segmart events FILE`` into an emptied database (COPY fast path)
  dbt       ``dbt build --full-refresh`` of the event marts and what they read
            (``+path:models/marts/events``, data tests included, no seeds)
  pandas    the same key figures (per day, week and month: events, active users,
            orders, buyers, revenue) and the ordered day-window funnel, from the same
            gzip file: read_csv (parsing included), de-duplication, group-bys, and the
            funnel as successive merges on (user, day) with the time condition

Printed: medians of --runs runs, the ratio of load + dbt against pandas, and the
slowest dbt nodes of the last build (run_results.json). Uses its own database
(``SEGMART_BENCH_EVENTS_DBNAME``, default ``segmart_bench_events``) on the configured
or embedded server.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_EVENTS_DBNAME", "segmart_bench_events")

from segmart import db  # noqa: E402
from segmart.generate.events import generate_events  # noqa: E402

log = logging.getLogger("bench")
STEPS = ["view", "cart", "checkout", "purchase"]
SELECTION = ("--select", "+path:models/marts/events", "--exclude", "resource_type:seed")


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def _empty(pg) -> None:
    with pg.cursor() as cur:
        for schema in ("staging", "intermediate", "stg", "data_mart", "ops"):
            cur.execute(f"drop schema if exists {schema} cascade")
    pg.commit()


def pandas_figures(path: Path) -> tuple[int, int]:
    """Key figures per grain and the funnel per day window; returns (periods, funnel rows) to keep them."""
    events = pd.read_csv(
        path, usecols=["user_id", "event_time", "event_type", "value"], dtype={"event_type": "category"}
    )
    events = events.drop_duplicates(["user_id", "event_time", "event_type"])
    events["at"] = pd.to_datetime(events["event_time"], format="%Y-%m-%d %H:%M:%S")
    events["day"] = events["at"].dt.normalize()
    events["is_purchase"] = events["event_type"] == "purchase"
    events["revenue"] = events["value"].where(events["is_purchase"], 0.0).fillna(0.0)
    events["buyer"] = events["user_id"].where(events["is_purchase"])
    periods = 0
    for grain in ("D", "W", "M"):
        key = events["day"] if grain == "D" else events["day"].dt.to_period(grain).dt.start_time
        figures = events.groupby(key).agg(
            events=("user_id", "size"),
            active_users=("user_id", "nunique"),
            orders=("is_purchase", "sum"),
            buyers=("buyer", "nunique"),
            revenue=("revenue", "sum"),
        )
        periods += len(figures)
    reached = events[events["event_type"] == STEPS[0]].groupby(["user_id", "day"])["at"].min().rename("reached")
    funnel_rows = len(reached)
    for step in STEPS[1:]:
        candidates = events.loc[events["event_type"] == step, ["user_id", "day", "at"]]
        joined = candidates.merge(reached.reset_index(), on=["user_id", "day"])
        joined = joined[joined["at"] >= joined["reached"]]
        reached = joined.groupby(["user_id", "day"])["at"].min().rename("reached")
        funnel_rows += len(reached)
    return periods, funnel_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    conn = db.resolve()
    pg = db.connect(conn)
    work = Path(tempfile.mkdtemp(prefix="bench-events-"))
    started = time.perf_counter()
    stats = generate_events(work / "events.csv.gz", rows=args.rows, seed=1)
    log.info(
        "generated %s events (%s duplicates) in %.1f s",
        f"{stats.rows:,}",
        stats.duplicates,
        time.perf_counter() - started,
    )
    env = dict(os.environ, DBT_TARGET_PATH=str(work / "target"), DBT_LOG_PATH=str(work / "logs"))
    dbt = str(Path(sys.executable).with_name("dbt"))
    timings: dict[str, list[float]] = {"load": [], "dbt": [], "pandas": []}
    for run in range(args.runs):
        _empty(pg)
        timings["load"].append(_timed([sys.executable, "-m", "segmart", "events", str(stats.path)], env))
        timings["dbt"].append(
            _timed(
                [dbt, "build", "--full-refresh", *SELECTION, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)],
                env,
            )
        )
        started = time.perf_counter()
        periods, funnel_rows = pandas_figures(stats.path)
        timings["pandas"].append(time.perf_counter() - started)
        log.info("run %d: %s", run + 1, ", ".join(f"{k} {v[-1]:.1f} s" for k, v in timings.items()))
    median = {name: statistics.median(values) for name, values in timings.items()}
    segmart_total = median["load"] + median["dbt"]
    log.info("")
    log.info("%s events, medians of %d runs:", f"{args.rows:,}", args.runs)
    log.info("  load (COPY)          %8.1f s", median["load"])
    log.info("  dbt build (events)   %8.1f s", median["dbt"])
    log.info("  load + dbt           %8.1f s", segmart_total)
    log.info("  pandas (same figures) %7.1f s  (%d periods, %d funnel rows)", median["pandas"], periods, funnel_rows)
    log.info("  ratio load+dbt / pandas: %.2f", segmart_total / median["pandas"])
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    slowest = sorted(results, key=lambda r: r.get("execution_time", 0), reverse=True)[:5]
    log.info("slowest dbt nodes of the last build:")
    for node in slowest:
        log.info("  %6.1f s  %s", node["execution_time"], node["unique_id"])
    pg.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
