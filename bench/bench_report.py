"""Segment lists at scale: a 1M-customer source streamed into XLSX (and CSV) in constant memory.

    python bench/bench_report.py                 # 1,000,000 customers, 3 runs of each step
    python bench/bench_report.py --customers N --runs R [--keep]

The marts the lists read (data_mart.customer_rfm, the previous month of
customer_segment_history, the rfm_segments seed) are filled directly with
synthetic rows by SQL, so the figures are the report's own cost, not dbt's.
Each step runs in its own child process and is timed from outside; its peak RSS
comes from the kernel's accounting of that child (os.wait4):

  read      the baseline: stream the same rows from the server-side cursor, write nothing
  xlsx      segment_list + write_xlsx (XlsxWriter constant_memory), one sheet per segment
  csv       segment_list + write_csv

Printed: median time and peak RSS of each over --runs runs, and the ratios
against the read baseline measured in the same run. Uses its own database
(SEGMART_BENCH_REPORT_DBNAME, default segmart_bench_report).
"""

from __future__ import annotations

import argparse
import csv
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
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_REPORT_DBNAME", "segmart_bench_report")

from segmart import db  # noqa: E402

log = logging.getLogger("bench")

SCHEMA = """
drop schema if exists data_mart cascade;
create schema data_mart;
create table data_mart.rfm_segments (
    rfm_segment text, segment_order integer, segment_name_en text, segment_name_ru text,
    segment_description_en text, segment_description_ru text, recommended_action_en text, recommended_action_ru text
);
create table data_mart.customer_rfm (
    source_system text, customer_id text, currency_code text, as_of_date date, first_purchase_date date,
    last_purchase_date date, recency_days integer, frequency integer, monetary numeric, return_count integer,
    return_amount numeric, r_score integer, f_score integer, m_score integer, rfm_score text, rfm_segment text
);
create table data_mart.customer_segment_history (
    source_system text, customer_id text, as_of_date date, rfm_segment text
);
"""
# deterministic pseudo-random customers spread over the 11 segments
FILL = """
insert into data_mart.customer_rfm
select 'bench', lpad(g::text, 7, '0'), 'GBP', date '2024-06-15',
    date '2022-01-01' + mod(g * 7919, 700)::integer, date '2024-06-14' - mod(g * 104729, 500)::integer,
    1 + mod(g * 104729, 500), 1 + mod(g * 31, 40), round(mod(g * 2654435761, 1000000) / 100.0, 2), 0, 0,
    1 + mod(g, 5), 1 + mod(g / 5, 5), 1 + mod(g / 25, 5), '', s.rfm_segment
from generate_series(1::bigint, %(n)s) as g
inner join data_mart.rfm_segments as s on s.segment_order = 1 + mod(g, 11);
insert into data_mart.customer_segment_history
select source_system, customer_id, date '2024-06-01', rfm_segment from data_mart.customer_rfm where random() < 0.9;
create index on data_mart.customer_segment_history (source_system, customer_id, as_of_date);
analyze data_mart.customer_rfm;
analyze data_mart.customer_segment_history;
"""


def child(step: str, out: Path) -> None:
    """One measured step, in its own process."""
    import datetime as dt

    from segmart.report import data
    from segmart.report.csvout import write_csv
    from segmart.report.i18n import Lang
    from segmart.report.lists import segment_list
    from segmart.report.xlsx import write_xlsx

    conn = db.connect()
    data.begin_snapshot(conn)
    catalog = data.Catalog.read(conn)
    segments = data.query(conn, "select * from data_mart.rfm_segments order by segment_order")
    source = data.SalesSource("bench", {"source_name": "bench", "source_name_ru": "bench"}, "GBP")
    source.as_of_date = dt.date(2024, 6, 15)
    listing = segment_list(conn, catalog, Lang("en"), source, segments)
    if step == "read":
        rows = sum(1 for _ in listing.rows())
    elif step == "xlsx":
        rows = write_xlsx(out / "bench.xlsx", listing, Lang("en"))
    else:
        rows = write_csv(out / "bench.csv", listing, delimiter=";")
    conn.close()
    sys.stdout.write(f"{rows}\n")


def measure(step: str, out: Path) -> tuple[float, float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", step, "--out", str(out)], stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    rows = int(proc.stdout.read().strip() or 0) if proc.stdout else 0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"step {step} failed")
    return seconds, usage.ru_maxrss / 1024, rows  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the output files and print where")
    parser.add_argument("--child", choices=["read", "xlsx", "csv"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    conn = db.connect()
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
        with (ROOT / "seeds" / "rfm_segments.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                cur.execute(
                    "insert into data_mart.rfm_segments values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [row[k] for k in row],
                )
        cur.execute(FILL, {"n": args.customers})
    conn.commit()
    conn.close()
    log.info("filled %s customers in %.1fs", f"{args.customers:,}", time.perf_counter() - started)
    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    results: dict[str, list[tuple[float, float, int]]] = {"read": [], "xlsx": [], "csv": []}
    for run in range(args.runs):
        for step in results:
            results[step].append(measure(step, out))
            seconds, rss, rows = results[step][-1]
            log.info("run %d %-4s %7.1fs  peak RSS %6.0f MB  rows %s", run + 1, step, seconds, rss, f"{rows:,}")
    med = {
        step: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for step, runs in results.items()
    }
    log.info("\nmedian of %d runs, %s customers:", args.runs, f"{args.customers:,}")
    for step, (seconds, rss) in med.items():
        log.info(
            "  %-4s %7.1fs (%.2fx the read baseline)  peak RSS %6.0f MB (%.2fx)",
            step,
            seconds,
            seconds / med["read"][0],
            rss,
            rss / med["read"][1],
        )
    for name in ("bench.xlsx", "bench.csv"):
        path = out / name
        if path.exists():
            log.info("  %s: %.1f MB", name, path.stat().st_size / 1e6)
            if not args.keep:
                path.unlink()
    if args.keep:
        log.info("files kept in %s", out)
    else:
        out.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
