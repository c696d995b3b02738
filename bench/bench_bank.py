"""Bank pipeline at scale: generate → load → dbt build of the bank models.

    python bench/bench_bank.py                      # quick: 100k clients, 1M usage rows
    python bench/bench_bank.py --full               # 1M clients, 10M usage rows
    python bench/bench_bank.py --clients N --usages M [--seed S] [--out DIR] [--keep]

Each step runs as its own process, as a user runs it (``python -m loaders
generate bank``, ``python -m loaders bank``, ``dbt build --select <bank
models and their parents>``), and is timed from the outside; its peak RSS is
read from the kernel's accounting of that very child (``os.wait4``). The
PostgreSQL server's own memory is not included. The slowest dbt nodes come from
dbt's run_results.json, and the sizes of the staged and mart tables from the
catalogue.

Uses its own database (``SEGMART_BENCH_BANK_DBNAME``, default
``segmart_bench_bank``) on the configured or embedded server, and empties the
bank staging tables there first, so every run starts from the same state.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# before segmart is imported: it reads the database name from the environment
# (the checkout is importable through the editable install of `run.py setup`)
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_BANK_DBNAME", "segmart_bench_bank")

from psycopg2 import sql  # noqa: E402

from segmart import db  # noqa: E402

log = logging.getLogger("bench")

BANK_SELECTION = ["+path:models/staging/bank", "+path:models/intermediate/bank", "+path:models/marts/bank"]
RESET_BANK_STAGING = """
delete from staging.load_quarantine
where load_id in (select load_id from staging.load_batches where target in ('bank_clients', 'bank_product_usage'));
delete from staging.load_batches where target in ('bank_clients', 'bank_product_usage');
truncate staging.bank_clients, staging.bank_product_usage;
"""
SIZES = """
select n.nspname, c.relname, pg_total_relation_size(c.oid)
from pg_class as c
inner join pg_namespace as n on n.oid = c.relnamespace
where c.relkind = 'r'
    and (
        (n.nspname = 'staging' and c.relname like 'bank\\_%')
        or (n.nspname in ('intermediate', 'data_mart') and c.relname in ({names}))
    )
order by pg_total_relation_size(c.oid) desc
"""


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss_mb: float | None
    rows: int | None = None


def run_measured(name: str, cmd: list[str], log_file: Path, env: dict[str, str], rows: int | None = None) -> Step:
    """Run `cmd` as a child; wall time and that child's own peak RSS (Linux/macOS)."""
    log.info("%s: %s", name, " ".join(cmd))
    started = time.perf_counter()
    with log_file.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            # ru_maxrss is in KiB on Linux, in bytes on macOS
            peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        else:  # Windows: no per-child accounting in the standard library
            proc.wait()
            peak = None
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace")[-4000:]
        raise SystemExit(f"{name} failed (exit {proc.returncode}); end of {log_file}:\n{tail}")
    log.info("%s: %.1f s, peak RSS %s MB", name, seconds, "n/a" if peak is None else f"{peak:.0f}")
    return Step(name, seconds, peak, rows)


def slowest_nodes(run_results: Path, top: int) -> list[tuple[str, float]]:
    results = json.loads(run_results.read_text())["results"]
    timed = [(r["unique_id"].split(".", 2)[-1], float(r["execution_time"])) for r in results]
    return sorted(timed, key=lambda item: -item[1])[:top]


def bank_model_names(target: Path) -> list[str]:
    manifest = json.loads((target / "manifest.json").read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"}
        and ("/bank/" in node["original_file_path"] or node["name"].startswith("bank_"))
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000, help="clients to generate (default 100,000)")
    parser.add_argument("--usages", type=int, default=1_000_000, help="usage rows to generate (default 1,000,000)")
    parser.add_argument("--full", action="store_true", help="the full size: 1,000,000 clients, 10,000,000 usage rows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="where to write the files and logs (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and logs")
    parser.add_argument("--top", type=int, default=8, help="how many of the slowest dbt nodes to list")
    args = parser.parse_args()
    if args.full:
        args.clients, args.usages = 1_000_000, 10_000_000
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    conn = db.resolve()  # starts the embedded server and creates the database when needed
    pg = db.connect(conn)
    from loaders.load import ensure_schema

    ensure_schema(pg)
    with pg.cursor() as cur:
        cur.execute(RESET_BANK_STAGING)
    pg.commit()

    work = args.out or Path(tempfile.mkdtemp(prefix="segmart-bench-bank-"))
    work.mkdir(parents=True, exist_ok=True)
    data, target = work / "data", work / "dbt"
    env = dict(os.environ)
    env.update(
        DBT_TARGET_PATH=str(target / "target"),
        DBT_LOG_PATH=str(target / "logs"),
        DBT_PROFILES_DIR=str(ROOT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    python = sys.executable
    dbt = str(Path(python).with_name("dbt"))
    sizes_args = ["--clients", str(args.clients), "--usages", str(args.usages), "--seed", str(args.seed)]
    try:
        steps = [
            run_measured(
                "generate",
                [python, "-m", "segmart", "generate", "bank", *sizes_args, str(data)],
                work / "generate.log",
                env,
                rows=args.clients + args.usages,
            ),
        ]
        megabytes = sum(f.stat().st_size for f in data.glob("*.csv")) / 1e6
        steps.append(
            run_measured(
                "load",
                [python, "-m", "segmart", "bank", str(data / "clients.csv"), str(data / "product_usage.csv")],
                work / "load.log",
                env,
                rows=args.clients + args.usages,
            )
        )
        build = [dbt, "build", "--select", *BANK_SELECTION, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)]
        steps.append(run_measured("dbt build", build, work / "dbt_build.log", env))
        slow = slowest_nodes(target / "target" / "run_results.json", args.top)
        names = bank_model_names(target / "target")
        with pg.cursor() as cur:
            cur.execute(SIZES.format(names=", ".join(f"'{name}'" for name in names)))
            sizes = []
            for schema, table, size in cur.fetchall():
                cur.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
                sizes.append((f"{schema}.{table}", size, cur.fetchone()[0]))
            cur.execute(
                "select entity, row_status, row_count from data_mart.bank_reconciliation order by entity, status_order"
            )
            reconciliation = cur.fetchall()
        pg.commit()
    finally:
        pg.close()
        if not args.keep and args.out is None:
            shutil.rmtree(work, ignore_errors=True)

    out = [
        f"bank pipeline: {args.clients:,} clients, {args.usages:,} usage rows, seed {args.seed}, "
        f"{megabytes:,.0f} MB of CSV",
        "",
        "| step | seconds | rows/s | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for step in steps:
        rate = f"{step.rows / step.seconds:,.0f}" if step.rows else "—"
        rss = "n/a" if step.peak_rss_mb is None else f"{step.peak_rss_mb:,.0f}"
        out.append(f"| {step.name} | {step.seconds:,.1f} | {rate} | {rss} |")
    out.append(f"| total | {sum(s.seconds for s in steps):,.1f} | | |")
    out += ["", "slowest dbt nodes:", "", "| node | seconds |", "|---|---:|"]
    out += [f"| {name} | {seconds:,.1f} |" for name, seconds in slow]
    out += ["", "table sizes:", "", "| table | rows | MB |", "|---|---:|---:|"]
    out += [f"| {name} | {tuples:,} | {size / 1e6:,.0f} |" for name, size, tuples in sizes]
    out += ["", "reconciliation:", "", "| entity | status | rows |", "|---|---|---:|"]
    out += [f"| {entity} | {status} | {count:,} |" for entity, status, count in reconciliation]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
