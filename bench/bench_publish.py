"""Full refresh and daily build of the main job at scale: seconds and exit codes.

    python bench/bench_publish.py [--rows 3000000 10000000] [--customers 50000] [--repeats 1]

For each size: a generated 1C:ERP file of that many lines (the operator's
report in the publishing issue used ``--format onec --rows 3000000 --customers
50000``) is dropped in the inbox of a fresh database next to the demo, and
``segmart build --full-refresh`` runs (``--repeats`` times); then one new day
(a separate generated file of about one day's lines) lands and the daily
``segmart build`` runs. Each run is the real command in a child process, with
the default lock timeout (``SEGMART_LOCK_TIMEOUT``, 5 s), which made the full
refresh at 3M lines fail every time before the mart keys moved to the end of
the run. Each run also prints its publication (``ops.publish_log``): how many
marts it moved into data_mart and how long that transaction held their locks,
the window in which a BI query on a replaced mart waits.

The baseline in the same run is the full refresh of the same data: the daily
build is printed as a share of it. The slowest nodes of each run come from
dbt's ``run_results.json``. Uses its own database
(``SEGMART_BENCH_PUBLISH_DBNAME``, default ``segmart_bench_publish``) and
temporary folders.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_PUBLISH_DBNAME", "segmart_bench_publish")

from segmart import db  # noqa: E402

log = logging.getLogger("bench_publish")


def folders_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SEGMART_ALERT_URLS", "SEGMART_RUN_WAIT", "PGOPTIONS"):
        env.pop(name, None)
    env.update(
        SEGMART_INBOX_DIR=str(scratch / "inbox"),
        SEGMART_ARCHIVE_DIR=str(scratch / "archive"),
        SEGMART_REJECTED_DIR=str(scratch / "rejected"),
        SEGMART_LOG_DIR=str(scratch / "logs"),
        SEGMART_REPORT_DIR=str(scratch / "reports"),
        DBT_TARGET_PATH=str(scratch / "target"),
        DBT_LOG_PATH=str(scratch / "dbt-logs"),
    )
    return env


def segmart(env: dict[str, str], *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "segmart", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        log.warning("segmart %s exited %d:\n%s", " ".join(args), result.returncode, result.stderr[-3000:])
    return elapsed, result.returncode


def slowest(scratch: Path, count: int = 5) -> str:
    try:
        results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return "no run_results.json"
    nodes = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:count]
    names = ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}s" for r in nodes)
    return f"{len(results)} nodes; slowest: {names}"


def generate(path: Path, rows: int, customers: int, days: int, start: str, seed: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "segmart", "generate", "sales", "--format", "onec", "--rows", str(rows),
         "--customers", str(customers), "--days", str(days), "--start-date", start, "--seed", str(seed), str(path)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip


def last_publication() -> str:
    """The newest publication: how many marts, and how long its transaction held their locks."""
    pg = db.connect(db.resolve())
    try:
        with pg.cursor() as cur:
            cur.execute("select to_regclass('ops.publish_log') is not null")
            if not cur.fetchone()[0]:
                return "no publication"
            cur.execute(
                "select cardinality(marts), attempts, lock_held_seconds from ops.publish_log"
                " order by publish_id desc limit 1"
            )
            row = cur.fetchone()
    finally:
        pg.close()
    if row is None:
        return "no publication"
    return f"published {row[0]} marts, locks held {row[2]:.3f} s (attempt {row[1]})"


def reset_database() -> None:
    info = db.resolve()
    pg = db.connect(info)
    pg.autocommit = True
    with pg.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema' "
            "and nspname <> 'public'"
        )
        for (schema,) in cur.fetchall():
            cur.execute(f'drop schema "{schema}" cascade')
    pg.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[3_000_000])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    days = 365
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as scratch_dir:
            scratch = Path(scratch_dir)
            env = folders_env(scratch)
            history, day = scratch / "onec_history.csv", scratch / "onec_new_day.csv"
            generate(history, rows, args.customers, days, "2023-01-01", 11)
            generate(day, max(rows // days, 1), args.customers, 1, "2024-01-01", 12)
            reset_database()
            (scratch / "inbox" / "sales").mkdir(parents=True)
            segmart(env, "build")  # the demo, as on a fresh clone
            history.rename(scratch / "inbox" / "sales" / history.name)
            landed, code = segmart(env, "build")  # the own file replaces the demo: a full build
            log.info("%d lines: first build with the file %.1fs, exit %d; %s", rows, landed, code, slowest(scratch))
            fulls, codes = [], []
            for repeat in range(args.repeats):
                seconds, code = segmart(env, "build", "--full-refresh")
                fulls.append(seconds)
                codes.append(code)
                log.info("%d lines: full refresh %d: %.1fs, exit %d; %s; %s", rows, repeat + 1, seconds, code,
                         last_publication(), slowest(scratch))  # fmt: skip
            day.rename(scratch / "inbox" / "sales" / day.name)
            daily, daily_code = segmart(env, "build")
            log.info("%d lines: daily build (one new day): %.1fs, exit %d; %s; %s", rows, daily, daily_code,
                     last_publication(), slowest(scratch, 10))  # fmt: skip
            full = statistics.median(fulls)
            log.info(
                "\n%d lines, %d customers (load average %s):\n  full refresh: median %.1fs of %d, exit codes %s\n"
                "  daily build: %.1fs, exit %d, %.0f%% of the full refresh",
                rows, args.customers, os.getloadavg(), full, len(fulls), codes, daily, daily_code, 100 * daily / full,
            )  # fmt: skip


if __name__ == "__main__":
    main()
