"""The main job: database up, data landed, marts built, and how to connect."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from loaders.formats import BANK_FORMATS, SALES_FORMATS
from loaders.load import LoadResult, load_files
from segmart import build_state, db
from segmart.config import PROJECT_ROOT, SegmartError, bi_role
from segmart.generate import generate_bank, generate_sales
from segmart.report.settings import ReportSettings

log = logging.getLogger("segmart")

DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
INBOX_DIR = DATA_DIR / "inbox"
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".gz")


def sample_files() -> tuple[list[Path], list[Path]]:
    """The demo's inputs, generated once (deterministically) into data/sample/."""
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    uci = SAMPLE_DIR / "online_retail_sample.csv"
    onec = SAMPLE_DIR / "realizaciya_sample.csv"
    bank_dir = SAMPLE_DIR / "bank"
    if not uci.is_file():
        generate_sales(uci, fmt="uci", rows=60_000, customers=1_500, days=373, seed=42)
    if not onec.is_file():
        generate_sales(onec, fmt="onec", rows=15_000, customers=400, days=365, seed=7)
    if not (bank_dir / "product_usage.csv").is_file():
        generate_bank(bank_dir, clients=5_000, usages=40_000, seed=11)
    return [uci, onec], [bank_dir / "clients.csv", bank_dir / "product_usage.csv"]


def inbox_files() -> tuple[list[Path], list[Path]]:
    """Files dropped by operators into data/inbox/sales and data/inbox/bank."""

    def listing(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(CSV_SUFFIXES))

    return listing(INBOX_DIR / "sales"), listing(INBOX_DIR / "bank")


def run_dbt(args: list[str]) -> int:
    dbt = Path(sys.executable).with_name("dbt.exe" if os.name == "nt" else "dbt")
    command = [str(dbt), *args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    log.info("$ dbt %s", " ".join(args))
    return subprocess.run(command, cwd=PROJECT_ROOT).returncode


def _mart_counts(conn) -> list[tuple[str, str, int | None]]:
    """The data_mart relations and their estimated row counts (the planner's, kept by ANALYZE; no table scan)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select c.relname, case when c.relkind = 'v' then 'view' else 'table' end,
                case when c.relkind <> 'v' and c.reltuples >= 0 then c.reltuples::bigint end
            from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = 'data_mart' and c.relkind in ('r', 'p', 'v', 'm')
            order by c.relname
            """
        )
        out = [(name, kind, rows) for name, kind, rows in cur.fetchall()]
    conn.rollback()
    return out


def _write_report(pg, settings: ReportSettings) -> list[Path]:
    """The manager report and segment lists, after a successful build."""
    import psycopg2

    from segmart.report import run_report

    try:
        return run_report(pg, settings)
    except (OSError, psycopg2.Error) as exc:
        raise SegmartError(f"the marts were built, but the report could not be written: {exc}") from exc


def build(
    *,
    sample: bool = False,
    full_refresh: bool = False,
    keep_going: bool = False,
    report: ReportSettings | None = None,
) -> int:
    """The main job; its exit code (0 built, 1 built but some file failed to load).

    With `report` settings, the manager report is written after a successful dbt build.
    """
    started = time.perf_counter()
    conn_info = db.resolve()
    sales, bank = inbox_files()
    if sample or not (sales or bank):
        log.info("no files in %s: using the bundled sample data (generated once into %s)", INBOX_DIR, SAMPLE_DIR)
        sales, bank = sample_files()
    pg = db.connect(conn_info)
    try:
        results: list[LoadResult] = []
        if sales:
            results += load_files(pg, sales, SALES_FORMATS)
        if bank:
            results += load_files(pg, bank, BANK_FORMATS)
    finally:
        pg.close()
    failed = [r for r in results if r.status == "failed"]
    if failed and not keep_going:
        raise SegmartError(
            f"{len(failed)} file(s) could not be loaded (see above); nothing was built. Fix or remove them, "
            "or pass --keep-going to build from what landed."
        )
    pg = db.connect(conn_info)
    try:
        plan, _ = build_state.plan(pg, full_refresh=full_refresh)
        log.info("build: %s", plan.reason)
        if plan.run_dbt:
            build_state.forget(pg)
            # unit tests are design checks for CI (the test suite runs them), not for the nightly job
            dbt_args = ["build", "--exclude-resource-type", "unit_test"]
            if full_refresh:
                dbt_args.append("--full-refresh")
            if plan.exclude:
                dbt_args += ["--exclude", *plan.exclude]
            if run_dbt(dbt_args) != 0:
                raise SegmartError("dbt build failed (see its output above); data_mart keeps its previous tables.")
            build_state.record(pg, build_state.current(pg))
        counts = _mart_counts(pg)
        report_files = _write_report(pg, report) if report else []
    finally:
        pg.close()
    lines = [
        f"  data_mart.{name:<34} {kind:<5} " + (f"~{rows:>10,} rows" if rows is not None else "")
        for name, kind, rows in counts
    ]
    where = "embedded PostgreSQL (stop it with `python run.py db stop`)" if conn_info.embedded else "configured server"
    log.info(
        '\nBuilt in %.0fs on the %s:\n%s\n\nConnect: %s\n  psql "%s" -c "select * from data_mart.rfm_segment_summary"\n'
        "  Power BI: `python3 run.py bi pbids` (server %s:%d, database %s), then `python3 run.py bi add-user NAME`\n"
        "  for a login in the read-only role %r; `bi info` for DataLens, Metabase, Superset.\n"
        "  dbt by hand: source .venv/bin/activate && dbt build%s",
        time.perf_counter() - started,
        where,
        "\n".join(lines),
        conn_info.url(),
        conn_info.url(),
        conn_info.host,
        conn_info.port,
        conn_info.dbname,
        bi_role(),
        "".join(f"\n  manager report: {p}" for p in report_files if p.suffix == ".html"),
    )
    return 1 if failed else 0
