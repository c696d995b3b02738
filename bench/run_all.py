"""Every ratio of the performance targets (issue 11) in one run, medians and ratios side by side.

    python bench/run_all.py [--rows 10000000] [--repeats 3] [--load-rows 1000000] [--real PATH]
                            [--skip-loads] [--skip-real] [--skip-generated] [--skip-daily]

Measured in this run, on this machine, each figure against its baseline:

* loads: the segmart loader (subprocess, as a user runs it) against a plain
  COPY of the same bytes, for the real UCI file and a generated 1C:ERP file
  (cp1251, decimal commas) of --load-rows rows; peak RSS (``bench_load.py``);
* real UCI file: ``dbt run`` of the sales + customer marts, and the whole
  build on a fresh database (load + ``dbt build`` without unit tests, as the
  main job runs it), against the pandas peer (``bench/pandas_marts.py``,
  CSV parsing included);
* generated UCI file of --rows rows: ``dbt run`` and ``dbt build`` (data
  tests) of the sales + customer marts against pandas, and ``dbt run`` of the
  core marts against the hand-written SQL floor (``bench/floor_pipeline.sql``);
* daily: the generated file split before its last day; the history is built,
  then the day is loaded and built incrementally (load + ``dbt build``) and
  compared with a ``dbt build --full-refresh`` of the same data; then, with
  nothing new, the main job's decision (``segmart.build_state``) and what a
  ``dbt build`` would cost anyway.

What this does not measure (each says so in the output): the bank marts (no
pandas peer of them yet: ``bench/bench_bank.py`` times them alone) and the
test-suite time. The pandas peer computes the core sales and customer marts
only (see its docstring); the dbt runs build every sales and customer mart.

Uses its own database (``SEGMART_BENCH_DBT_DBNAME``, default
``segmart_bench_dbt``) on the configured or embedded server.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import bench_dbt  # noqa: E402  (sets the benchmark database)
import bench_load  # noqa: E402

from segmart import build_state, db  # noqa: E402

os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_DBT_DBNAME", "segmart_bench_dbt")
from segmart.generate import generate_sales  # noqa: E402

log = logging.getLogger("bench")
MARTS = bench_dbt.ALL_MARTS
NO_UNIT = ("--exclude-resource-type", "unit_test")
WHERE_TIME_GOES: list[tuple[str, list[tuple[str, float]]]] = []  # (step, slowest dbt nodes)


@dataclass
class Row:
    measure: str
    data: str
    ours: list[float]
    base_name: str
    base: list[float]
    target: float | None  # the ratio ours / base must be at most this (None: report only)
    note: str = ""

    def cells(self) -> list[str]:
        ours, base = statistics.median(self.ours), statistics.median(self.base)
        ratio = ours / base if base else float("nan")
        met = "—" if self.target is None else ("met" if ratio <= self.target else "missed")
        target = "—" if self.target is None else f"≤ {self.target:g}×"
        return [
            self.measure,
            self.data,
            f"{ours:.2f} (n={len(self.ours)})",
            f"{self.base_name} {base:.2f} (n={len(self.base)})",
            f"{ratio:.2f}×",
            target,
            met,
            self.note,
        ]


def table(rows: list[Row]) -> str:
    head = ["measure", "input", "segmart median s", "baseline median s", "ratio", "target", "", "note"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(out)


def bench_loads(pg, real: Path | None, load_rows: int, repeats: int, scratch: Path) -> list[str]:
    with pg.cursor() as cur:
        cur.execute(bench_load.FLOOR_DDL)
    pg.commit()
    lines = [
        "| input | rows | MB | method | median s | rows/s | MB/s | peak RSS MB | throughput vs floor |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    if real is not None:
        lines += bench_load.bench_input(pg, "UCI real", real, repeats, 541_909)
    onec = scratch / "realizaciya.csv"
    generate_sales(onec, fmt="onec", rows=load_rows, customers=max(1000, load_rows // 120), days=730, seed=1)
    lines += bench_load.bench_input(pg, "1C generated (cp1251, decimal commas)", onec, repeats, load_rows, "onec")
    onec.unlink()
    with pg.cursor() as cur:
        cur.execute("drop table public.bench_floor, public.bench_floor_onec")
        cur.execute(bench_load.RESET_STAGING)
    pg.commit()
    return lines


def pandas(runner: bench_dbt.Runner, path: Path, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        seconds, rss, _ = runner.run([sys.executable, str(bench_dbt.PANDAS_SCRIPT), str(path)])
        log.info("  pandas: %.1fs, peak RSS %.0f MB", seconds, rss)
        out.append(seconds)
    return out


def bench_real(pg, runner: bench_dbt.Runner, real: Path, repeats: int) -> list[Row]:
    whole, runs = [], []
    for _ in range(repeats):
        bench_dbt.reset_database(pg)
        load = runner.load(real)
        build = runner.dbt("build", *NO_UNIT)
        whole.append(load + build)
    runner.dbt("parse")
    for _ in range(repeats):
        runs.append(runner.dbt("run", "--full-refresh", "--select", *MARTS))
    peer = pandas(runner, real, repeats)
    return [
        Row("dbt run, sales + customer marts", "real UCI file", runs, "pandas", peer, 3.0),
        Row(
            "whole build on a fresh database (load + dbt build, no unit tests)",
            "real UCI file",
            whole,
            "pandas",
            peer,
            10.0,
            "also builds the bank marts of an empty bank staging",
        ),
    ]


def bench_generated(pg, runner: bench_dbt.Runner, path: Path, rows: int, repeats: int) -> list[Row]:
    label = f"{rows:,} generated rows"
    bench_dbt.reset_database(pg)
    runner.load(path)
    runner.dbt("seed")
    runner.dbt("parse")
    runs, builds, core, floor = [], [], [], []
    for _ in range(repeats):
        runs.append(runner.dbt("run", "--full-refresh", "--select", *MARTS))
        builds.append(runner.dbt("build", "--full-refresh", *NO_UNIT, "--select", *MARTS))
        core.append(runner.dbt("run", "--full-refresh", "--select", *bench_dbt.CORE_MARTS))
        seconds, _ = bench_dbt.run_floor(pg, runner)
        floor.append(seconds)
    differs = bench_dbt.check_floor(pg)
    peer = pandas(runner, path, repeats)
    return [
        Row("dbt run, sales + customer marts", label, runs, "pandas", peer, 1.0),
        Row("dbt build, sales + customer marts with data tests", label, builds, "pandas", peer, 2.0),
        Row(
            "dbt run, core marts",
            label,
            core,
            "SQL floor",
            floor,
            1.3,
            "floor = dbt on every core mart" if not differs else f"floor differs on {', '.join(differs)}",
        ),
    ]


def bench_daily(pg, runner: bench_dbt.Runner, path: Path, rows: int) -> list[Row]:
    label = f"{rows:,} generated rows"
    history, last_day = runner.scratch / "history.csv", runner.scratch / "last_day.csv"
    day, history_rows, day_rows = bench_dbt.split_last_day(path, history, last_day)
    log.info("daily: history %s rows, last day %s: %s rows", f"{history_rows:,}", day, f"{day_rows:,}")
    bench_dbt.reset_database(pg)
    runner.load(history)
    runner.dbt("build", "--full-refresh", *NO_UNIT)
    build_state.record(pg, build_state.current(pg))
    load = runner.load(last_day)
    plan, _ = build_state.plan(pg, full_refresh=False)  # what the main job would run
    log.info("  main job's plan: %s", plan.reason)
    daily = load + runner.dbt("build", *NO_UNIT, *(("--exclude", *plan.exclude) if plan.exclude else ()))
    WHERE_TIME_GOES.append(("daily build", bench_dbt.slowest(runner.run_results(), top=8)))
    build_state.record(pg, build_state.current(pg))
    started = time.perf_counter()
    decision, _ = build_state.plan(pg, full_refresh=False)
    decide = time.perf_counter() - started
    idle = runner.dbt("build", *NO_UNIT)
    full = runner.dbt("build", "--full-refresh", *NO_UNIT)
    WHERE_TIME_GOES.append(("full build", bench_dbt.slowest(runner.run_results(), top=8)))
    history.unlink()
    last_day.unlink()
    return [
        Row(
            f"daily: load + dbt build of one new day ({day}, {day_rows:,} rows)",
            label,
            [daily],
            "full build",
            [full],
            0.10,
        ),
        Row(
            "nothing new: the main job's decision",
            label,
            [decide],
            "full build",
            [full],
            None,
            f"{'dbt skipped' if not decision.run_dbt else 'dbt runs'}: {decision.reason}",
        ),
        Row("nothing new: a dbt build anyway", label, [idle], "full build", [full], None),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated UCI file")
    parser.add_argument("--load-rows", type=int, default=1_000_000, help="rows of the generated 1C file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real", type=Path, default=BENCH.parent.parent / "shared" / "data" / "online_retail.csv.gz")
    parser.add_argument("--skip-loads", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--skip-daily", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    conn = db.resolve()
    pg = db.connect(conn)
    real = args.real if args.real.is_file() else None
    if real is None:
        log.info("real file %s absent: its rows are skipped", args.real)
    rows: list[Row] = []
    load_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="segmart-bench-all-") as tmp:
        runner = bench_dbt.Runner(Path(tmp))
        if not args.skip_loads:
            bench_dbt.reset_database(pg)
            from loaders.load import ensure_schema

            ensure_schema(pg)
            load_lines = bench_loads(pg, real, args.load_rows, args.repeats, Path(tmp))
        if real is not None and not args.skip_real:
            rows += bench_real(pg, runner, real, args.repeats)
        if not (args.skip_generated and args.skip_daily):
            generated = Path(tmp) / "generated.csv"
            generate_sales(generated, fmt="uci", rows=args.rows, customers=args.rows // 120, days=730, seed=1)
            if not args.skip_generated:
                rows += bench_generated(pg, runner, generated, args.rows, args.repeats)
            if not args.skip_daily:
                rows += bench_daily(pg, runner, generated, args.rows)
        loads = runner.loads
    bench_dbt.reset_database(pg)
    pg.close()
    out = []
    if load_lines:
        out += ["Loads (target: UCI ≥ 0.8× plain COPY, 1C ≥ 0.5×, peak RSS < 300 MB):", *load_lines, ""]
    if rows:
        out += [table(rows), ""]
    for step, nodes in WHERE_TIME_GOES:
        out.append(f"Slowest dbt nodes of the {step} (run_results.json):")
        out += [f"  {seconds:8.1f}s  {node}" for node, seconds in nodes]
    out.append("Not measured here: bank marts against a pandas peer (none written yet), test-suite time.")
    if loads:
        out.append(
            f"Load average (1 min) during the timed steps: min {min(loads):.1f}, "
            f"median {statistics.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count()} CPUs"
        )
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
