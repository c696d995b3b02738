"""Loader throughput against the floor: a plain COPY of the same bytes.

    python bench/bench_load.py [--rows 10000000] [--repeats 3] [--real PATH]

For each input (the real UCI file when present, a generated UCI file of
--rows rows, and a generated 1C:ERP file of --onec-rows rows: cp1251, ``;``,
decimal commas, day-first dates) it measures, in the same run and on the same
server:

* floor: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the uncompressed bytes
  into an unindexed, unconstrained table with the file's columns (for 1C the
  decimal-comma columns are text: COPY cannot read them as numbers);
* segmart: ``python -m loaders sales FILE`` as a user runs it (subprocess:
  hashing, detection, lineage, quarantine, load_batches, commit), with its
  peak RSS.

Medians over --repeats runs; the tables are emptied between runs. Uses its own
database (``segmart_bench``) on the configured or embedded server.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# before segmart is imported: it reads the database name from the environment
# (the checkout is importable through the editable install of `run.py setup`)
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_DBNAME", "segmart_bench")

from segmart import db  # noqa: E402
from segmart.generate import generate_sales  # noqa: E402

log = logging.getLogger("bench")

FLOOR_DDL = """
drop table if exists public.bench_floor;
create table public.bench_floor (
    invoice_no text, stock_code text, description text, quantity integer,
    invoice_date timestamp, unit_price numeric, customer_id numeric, country text
);
drop table if exists public.bench_floor_onec;
create table public.bench_floor_onec (
    date timestamp, sale_id text, order_date timestamp, order_id text, buyer text, contractor text,
    site_id text, product text, feature text, quantity text, sum text, address text, cash_flow_type text
)
"""
RESET_STAGING = """
truncate staging.sales_uci_lines, staging.sales_onec_lines, staging.load_quarantine;
delete from staging.load_batches where target in ('sales_uci_lines', 'sales_onec_lines');
"""
FLOOR_COPY = {
    "uci": "copy public.bench_floor from stdin with (format csv, header true)",
    "onec": "copy public.bench_floor_onec from stdin with (format csv, header true, delimiter ';', encoding 'WIN1251')",
}


def floor_copy(pg, csv_path: Path, kind: str) -> float:
    with pg.cursor() as cur:
        cur.execute("truncate public.bench_floor, public.bench_floor_onec")
        cur.execute("set datestyle = 'ISO, DMY'" if kind == "onec" else "set datestyle = 'ISO, MDY'")
        pg.commit()
        started = time.perf_counter()
        with csv_path.open("rb") as handle:
            cur.copy_expert(FLOOR_COPY[kind], handle, size=1 << 20)
        pg.commit()
        return time.perf_counter() - started


def loader_run(pg, path: Path, extra: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one `python -m loaders sales` run."""
    with pg.cursor() as cur:
        cur.execute(RESET_STAGING)
    pg.commit()
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "segmart", "sales", *extra, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"loader failed: {result.stderr}")
    rss_kb = int(result.stderr.strip().splitlines()[-1])
    used = re.search(r"\((fast|checked) path", result.stderr)
    log.info("  %s: %s path, %.2fs", path.name, used.group(1) if used else "?", elapsed)
    return elapsed, rss_kb / 1024


def bench_input(pg, label: str, path: Path, repeats: int, rows: int, kind: str = "uci") -> list[str]:
    scratch = Path(tempfile.mkdtemp(prefix="segmart-bench-"))
    try:
        if path.suffix == ".gz":
            plain = scratch / path.name.removesuffix(".gz")
            with gzip.open(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            plain = path
        size_mb = plain.stat().st_size / 1e6
        floors, ours, ours_checked, rss = [], [], [], []
        for i in range(repeats):
            floors.append(floor_copy(pg, plain, kind))
            seconds, peak = loader_run(pg, plain, [])
            ours.append(seconds)
            rss.append(peak)
            log.info(
                "%s run %d: floor %.2fs, segmart %.2fs (peak RSS %.0f MB)", label, i + 1, floors[-1], seconds, peak
            )
        seconds, peak = loader_run(pg, plain, ["--checked"])
        ours_checked.append(seconds)
        rss.append(peak)
        gz_seconds = None
        if path.suffix == ".gz":
            gz_seconds, peak = loader_run(pg, path, [])
            rss.append(peak)
        floor_m, ours_m = statistics.median(floors), statistics.median(ours)
        out = [
            f"| {label} | {rows:,} | {size_mb:,.0f} | plain COPY (floor) | {floor_m:.2f} | {rows / floor_m:,.0f} "
            f"| {size_mb / floor_m:.1f} | — | 1.00 |",
            f"| {label} | {rows:,} | {size_mb:,.0f} | segmart loader | {ours_m:.2f} | {rows / ours_m:,.0f} "
            f"| {size_mb / ours_m:.1f} | {max(rss):.0f} | {floor_m / ours_m:.2f} |",
            f"| {label} | {rows:,} | {size_mb:,.0f} | segmart --checked (1 run) | {ours_checked[0]:.2f} "
            f"| {rows / ours_checked[0]:,.0f} | {size_mb / ours_checked[0]:.1f} | — "
            f"| {floor_m / ours_checked[0]:.2f} |",
        ]
        if gz_seconds is not None:
            out.append(
                f"| {label} | {rows:,} | {size_mb:,.0f} | segmart from .gz (1 run) | {gz_seconds:.2f} "
                f"| {rows / gz_seconds:,.0f} | {size_mb / gz_seconds:.1f} | — | {floor_m / gz_seconds:.2f} |"
            )
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated file")
    parser.add_argument("--onec-rows", type=int, default=None, help="rows of the generated 1C file (default: --rows)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "online_retail.csv.gz")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    conn = db.resolve()
    pg = db.connect(conn)
    from loaders.load import ensure_schema

    ensure_schema(pg)
    with pg.cursor() as cur:
        cur.execute(FLOOR_DDL)
    pg.commit()
    table = [
        "| input | rows | MB | method | median s | rows/s | MB/s | peak RSS MB | throughput vs floor |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    if args.real.is_file():
        table += bench_input(pg, "UCI real", args.real, args.repeats, 541_909)
    else:
        log.info("real file %s absent: skipped", args.real)
    with tempfile.TemporaryDirectory(prefix="segmart-gen-") as tmp:
        generated = Path(tmp) / "generated.csv"
        started = time.perf_counter()
        generate_sales(generated, fmt="uci", rows=args.rows, customers=max(1000, args.rows // 120), days=730, seed=1)
        log.info("generated %s rows in %.1fs", f"{args.rows:,}", time.perf_counter() - started)
        table += bench_input(pg, "UCI generated", generated, args.repeats, args.rows)
        generated.unlink()
        onec_rows = args.rows if args.onec_rows is None else args.onec_rows
        onec = Path(tmp) / "realizaciya.csv"
        generate_sales(onec, fmt="onec", rows=onec_rows, customers=max(1000, onec_rows // 120), days=730, seed=1)
        table += bench_input(pg, "1C generated (cp1251, decimal commas)", onec, args.repeats, onec_rows, "onec")
    with pg.cursor() as cur:
        cur.execute("drop table public.bench_floor, public.bench_floor_onec")
        cur.execute(RESET_STAGING)
    pg.commit()
    pg.close()
    sys.stdout.write("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
