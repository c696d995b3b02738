"""The same marts on local Spark and on PostgreSQL, from the same generated sales file.

    python bench/bench_spark.py [--rows 10000000] [--repeats 3] [--keep PATH]

One generated UCI file (``generate_sales(fmt="uci", rows=N, customers=N//120,
days=730, seed=1)``, as bench_dbt.py) is landed once per engine: COPY into the
benchmark database, and Parquet into a scratch landing folder. Then, --repeats
times each, ``dbt run --full-refresh`` of the marts test_spark.py compares
(customer_rfm, rfm_segment_summary, rfm_score_cut_points, cohort_retention,
monthly_kpis, abc_countries, abc_products and what they depend on; the seeds
are loaded once before, not timed) on the
``dev`` (PostgreSQL) and the ``spark`` target (local Spark, ``local[*]`` inside
dbt). Reported: medians of the landing and of the runs, the ratio Spark /
PostgreSQL measured in this run, the per-node medians from dbt's
run_results.json, and which models shuffle (a ``group by``, ``join``,
``distinct`` or window in their compiled SQL makes Spark exchange rows between
partitions; a plain projection does not).

The Spark run time includes starting Spark inside dbt (about 25 s here); the
per-node times do not. Local Spark on a 2-core machine is expected to be slower
than PostgreSQL: the figure says how much, not that Spark pays off there.
Needs Java and requirements-spark.txt (``python3 run.py setup --spark``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SEGMART_BENCH_DBT_DBNAME", "segmart_bench_spark")

from bench.bench_dbt import Runner, reset_database  # noqa: E402
from loaders.formats import SALES_FORMATS  # noqa: E402
from loaders.parquet_landing import land_files  # noqa: E402
from segmart import db  # noqa: E402
from segmart.generate import generate_sales  # noqa: E402
from segmart.spark_build import missing_requirements  # noqa: E402

log = logging.getLogger("bench")

MARTS = [
    "customer_rfm",
    "rfm_segment_summary",
    "rfm_score_cut_points",
    "cohort_retention",
    "monthly_kpis",
    "abc_countries",
    "abc_products",
]
SELECT = " ".join(f"+{mart}" for mart in MARTS)
_SHUFFLES_RE = re.compile(r"\b(group\s+by|join|distinct|over\s*\()", re.IGNORECASE)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def node_times(runner: Runner) -> dict[str, float]:
    return {r["unique_id"]: float(r["execution_time"]) for r in runner.run_results()}


def shuffles(target: Path) -> dict[str, bool]:
    """Model -> whether its compiled SQL groups, joins, de-duplicates or windows (Spark shuffles then)."""
    out = {}
    for path in (target / "compiled" / "segmart" / "models").rglob("*.sql"):
        out[path.stem] = bool(_SHUFFLES_RE.search(path.read_text()))
    return out


def run_engine(runner: Runner, engine: str, repeats: int) -> tuple[list[float], dict[str, list[float]]]:
    totals: list[float] = []
    nodes: dict[str, list[float]] = {}
    runner.dbt("seed", "--full-refresh")  # the marts read the seeds; not timed
    for attempt in range(repeats):
        log.info("%s: dbt run %d of %d", engine, attempt + 1, repeats)
        totals.append(runner.dbt("run", "--full-refresh", "--select", SELECT))
        for node, seconds in node_times(runner).items():
            nodes.setdefault(node, []).append(seconds)
    return totals, nodes


def report(rows: int, figures: dict, nodes: dict[str, dict[str, list[float]]], shuffle: dict[str, bool]) -> str:
    pg, spark = figures["postgres"], figures["spark"]
    lines = [
        f"generated UCI sales file: {rows:,} rows ({figures['file_mb']:.0f} MB); medians of {figures['repeats']}",
        f"{'':34}{'PostgreSQL':>12}{'Spark':>12}{'Spark/PG':>10}",
        f"{'land (COPY / Parquet), once':34}{pg['land']:>11.1f}s{spark['land']:>11.1f}s"
        f"{spark['land'] / pg['land']:>9.1f}x",
        f"{'dbt run --full-refresh (marts)':34}{median(pg['runs']):>11.1f}s{median(spark['runs']):>11.1f}s"
        f"{median(spark['runs']) / median(pg['runs']):>9.1f}x",
        "",
        "per node (median seconds from run_results.json; shuffles: from the compiled SQL)",
        f"{'node':58}{'PostgreSQL':>11}{'Spark':>9}  shuffles",
    ]
    names = sorted(set(nodes["postgres"]) | set(nodes["spark"]), key=lambda n: -median(nodes["spark"].get(n, [])))
    for name in names:
        model = name.rsplit(".", 1)[-1]
        lines.append(
            f"{name.removeprefix('model.segmart.'):58}{median(nodes['postgres'].get(name, [])):>10.1f}s"
            f"{median(nodes['spark'].get(name, [])):>8.1f}s  {'yes' if shuffle.get(model) else 'no'}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the generated file here (reused when present)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    missing = missing_requirements()
    if missing:
        log.error("the Spark engine is not installed: %s", "; ".join(missing))
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch_dir:
        scratch = Path(scratch_dir)
        path = args.keep or scratch / "sales.csv"
        if not path.is_file():
            log.info("generating %s rows into %s", f"{args.rows:,}", path)
            generate_sales(path, fmt="uci", rows=args.rows, customers=max(args.rows // 120, 1), days=730, seed=1)
        figures: dict = {"repeats": args.repeats, "file_mb": path.stat().st_size / 1e6, "rows": args.rows}
        nodes: dict[str, dict[str, list[float]]] = {}

        pg_runner = Runner(scratch / "postgres")
        pg_runner.scratch.mkdir()
        pg = db.connect(db.resolve())
        try:
            reset_database(pg)
        finally:
            pg.close()
        land = pg_runner.load(path)
        runs, nodes["postgres"] = run_engine(pg_runner, "postgres", args.repeats)
        figures["postgres"] = {"land": land, "runs": runs}

        spark_runner = Runner(scratch / "spark")
        spark_runner.scratch.mkdir()
        landing = scratch / "landing"
        started = time.perf_counter()
        land_files(landing, [path], SALES_FORMATS)
        land = time.perf_counter() - started
        os.environ.update(
            SEGMART_ENGINE="spark", SEGMART_LANDING_DIR=str(landing), SEGMART_SPARK_DIR=str(scratch / "spark-dir")
        )
        try:
            runs, nodes["spark"] = run_engine(spark_runner, "spark", args.repeats)
        finally:
            os.environ.pop("SEGMART_ENGINE", None)
        figures["spark"] = {"land": land, "runs": runs}
        text = report(args.rows, figures, nodes, shuffles(spark_runner.scratch / "target"))
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench_spark.json").write_text(json.dumps({"figures": figures, "nodes": nodes}, indent=2))
        (out / "bench_spark.txt").write_text(text + "\n")
        shutil.rmtree(scratch / "spark-dir", ignore_errors=True)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
