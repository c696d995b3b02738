"""Full dbt build of the sales and customer marts against a hand-written SQL floor and pandas.

    python bench/bench_dbt.py [--rows 10000000] [--repeats 3] [--gen-repeats 1] [--real PATH] [--no-real]

For each input (the real UCI file when present, and a generated UCI file of
--rows rows: ``generate_sales(fmt="uci", rows=N, customers=N//120, days=730,
seed=1)``) it loads the file once (``python -m loaders sales FILE``) and
measures, in the same run and on the same server:

* floor: ``bench/floor_pipeline.sql`` — the core marts (cleaned lines, orders,
  customer RFM, cohort retention, ABC countries and products, monthly KPIs) as
  plain CREATE TABLE AS statements from the staging table, in one psycopg2
  session; the result is checked against dbt's marts;
* dbt run (core): ``dbt run --full-refresh`` of the same marts and everything
  they depend on (``--select`` CORE_MARTS with ``+``);
* dbt run (all): ``dbt run --full-refresh`` of every sales and customer mart;
* dbt build (all): ``dbt build --full-refresh --exclude test_type:unit`` of the
  same selection: seeds, models and data tests;
* pandas: ``bench/pandas_marts.py`` on the same CSV (parsing included), with
  its peak RSS.

For the generated input it then measures the daily delta: the file is split so
that its last day is a separate file; the database is emptied, the history is
loaded and built, the last day is loaded and ``dbt build`` (incremental) is
timed against the full build. The slowest dbt nodes of the full and delta builds
come from dbt's run_results.json.

Medians over the repeats. Uses its own database (``SEGMART_BENCH_DBT_DBNAME``,
default ``segmart_bench_dbt``) on the configured or embedded server, and dbt
target/log paths in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# before segmart is imported: it reads the database name from the environment
# (the checkout is importable through the editable install of `run.py setup`)
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_DBT_DBNAME", "segmart_bench_dbt")

from psycopg2 import sql  # noqa: E402

from segmart import db  # noqa: E402
from segmart.generate import generate_sales  # noqa: E402

log = logging.getLogger("bench")

FLOOR_SQL = ROOT / "bench" / "floor_pipeline.sql"
PANDAS_SCRIPT = ROOT / "bench" / "pandas_marts.py"
PROJECT_SCHEMAS = ("staging", "stg", "intermediate", "data_mart", "dbt", "snapshots", "bench_floor", "ops")
ALL_MARTS = ["+path:models/marts/sales", "+path:models/marts/customers"]
CORE_MARTS = ["+sales_lines", "+customer_rfm", "+cohort_retention", "+abc_countries", "+abc_products", "+monthly_kpis"]
# the floor and the dbt marts it must equal, column for column (UCI rows)
FLOOR_CHECKS = {
    "sales_lines": "load_id, line_number, order_id, product_id, customer_id, country, ordered_at, net_amount, "
    "is_return, is_product",
    "customer_rfm": "customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, "
    "rfm_segment",
    "cohort_retention": "cohort_month, months_since_first_purchase, is_observable, cohort_size, active_customers, "
    "retention_rate, revenue",
    "abc_countries": "country, revenue, revenue_share, cumulative_share, revenue_rank, abc_class",
    "abc_products": "product_id, product_name, revenue, revenue_share, cumulative_share, revenue_rank, abc_class",
    "monthly_kpis": "month_start, is_complete_month, revenue, orders, customers, active_customers, new_customers, "
    "units, aov, arpu, arppu, repeat_purchase_rate, return_purchase_rate, guest_revenue_share",
}


@dataclass
class Runner:
    """Runs the steps of one benchmark, remembering the load average around them."""

    scratch: Path
    loads: list[float] = field(default_factory=list)

    def note_load(self) -> None:
        self.loads.append(os.getloadavg()[0])

    def run(self, cmd: list[str], env: dict[str, str] | None = None, quiet: bool = True) -> tuple[float, float, str]:
        """(seconds, peak RSS MB, output) of one child process, as a user runs it."""
        self.note_load()
        out_path = self.scratch / "step.log"
        with out_path.open("wb") as out:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env or dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - started
        output = out_path.read_text(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{output[-6000:]}")
        if not quiet:
            log.info("%s", output.strip())
        self.note_load()
        return elapsed, usage.ru_maxrss / 1024, output

    def dbt_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DBT_TARGET_PATH"] = str(self.scratch / "target")
        env["DBT_LOG_PATH"] = str(self.scratch / "logs")
        env["DBT_PROFILES_DIR"] = str(ROOT)
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        return env

    def dbt(self, *args: str) -> float:
        dbt = Path(sys.executable).with_name("dbt")
        cmd = [str(dbt), *args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)]
        seconds, _, _ = self.run(cmd, self.dbt_env())
        log.info("  dbt %s: %.1fs", " ".join(args[:2]), seconds)
        return seconds

    def run_results(self) -> list[dict]:
        return json.loads((self.scratch / "target" / "run_results.json").read_text())["results"]

    def load(self, path: Path) -> float:
        seconds, _, _ = self.run([sys.executable, "-m", "segmart", "sales", str(path)])
        log.info("  loaded %s in %.1fs", path.name, seconds)
        return seconds


def reset_database(pg) -> None:
    with pg.cursor() as cur:
        for schema in PROJECT_SCHEMAS:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    pg.commit()


def floor_statements() -> list[str]:
    text = "\n".join(line for line in FLOOR_SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def run_floor(pg, runner: Runner) -> tuple[float, list[tuple[str, float]]]:
    """Seconds of the whole floor pipeline (one session, committed), and per statement."""
    steps = []
    runner.note_load()
    started = time.perf_counter()
    with pg.cursor() as cur:
        for statement in floor_statements():
            step_started = time.perf_counter()
            cur.execute(statement)
            steps.append((statement.splitlines()[0], time.perf_counter() - step_started))
    pg.commit()
    elapsed = time.perf_counter() - started
    runner.note_load()
    log.info("  floor: %.1fs", elapsed)
    return elapsed, steps


def check_floor(pg) -> list[str]:
    """Marts where the floor and dbt differ (both directions of EXCEPT ALL), empty when they agree."""
    differing = []
    with pg.cursor() as cur:
        for table, columns in FLOOR_CHECKS.items():
            cur.execute(
                f"select count(*) from ((select {columns} from bench_floor.{table}"  # noqa: S608 (constants)
                f" except all select {columns} from data_mart.{table} where source_system = 'uci')"
                f" union all (select {columns} from data_mart.{table} where source_system = 'uci'"
                f" except all select {columns} from bench_floor.{table})) as diff"
            )
            if cur.fetchone()[0]:
                differing.append(table)
    pg.commit()
    return differing


def slowest(results: list[dict], top: int = 5) -> list[tuple[str, float]]:
    nodes = [(r["unique_id"], float(r["execution_time"])) for r in results]
    return sorted(nodes, key=lambda node: -node[1])[:top]


def time_split(results: list[dict]) -> dict[str, float]:
    """Seconds of dbt's nodes by kind (model, test, seed), as dbt measured them."""
    out: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        out[kind] = out.get(kind, 0.0) + float(result["execution_time"])
    return out


def split_last_day(path: Path, history: Path, last_day: Path) -> tuple[str, int, int]:
    """Split a time-ordered UCI CSV before its last calendar day: (day, history rows, last-day rows)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.readline()
        date_at = header.decode().strip().split(",").index("InvoiceDate")

        def day_of(line: bytes) -> str:
            return next(csv.reader(io.StringIO(line.decode())))[date_at][:10]

        tail = 1 << 20
        while True:  # read back from the end until the tail starts before the last day
            start = max(len(header), size - tail)
            handle.seek(start)
            pieces, position = [], start
            for piece in handle.read().split(b"\n"):
                pieces.append((position, piece))
                position += len(piece) + 1
            if start > len(header):
                pieces = pieces[1:]  # the first piece may be the end of a line
            pieces = [(position, piece) for position, piece in pieces if piece.strip()]
            day = day_of(pieces[-1][1])
            if day_of(pieces[0][1]) < day or start == len(header):
                break
            tail *= 4
        first = next(i for i, (_, piece) in enumerate(pieces) if day_of(piece) == day)
        if any(day_of(piece) != day for _, piece in pieces[first:]):
            raise SystemExit(f"{path} is not in time order")
        cut = pieces[first][0]
        handle.seek(0)
        with history.open("wb") as out:
            remaining = cut
            while remaining:
                chunk = handle.read(min(remaining, 1 << 24))
                out.write(chunk)
                remaining -= len(chunk)
        with last_day.open("wb") as out:
            out.write(header)
            out.write(handle.read())
    with history.open("rb") as handle:
        history_rows = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
    return day, history_rows, len(pieces) - first


@dataclass
class CaseResult:
    label: str
    rows: int
    floor: list[float] = field(default_factory=list)
    dbt_core: list[float] = field(default_factory=list)
    dbt_run: list[float] = field(default_factory=list)
    dbt_build: list[float] = field(default_factory=list)
    pandas: list[float] = field(default_factory=list)
    pandas_rss: list[float] = field(default_factory=list)
    build_split: dict[str, float] = field(default_factory=dict)
    build_slowest: list[tuple[str, float]] = field(default_factory=list)
    floor_steps: list[tuple[str, float]] = field(default_factory=list)
    floor_differs: list[str] = field(default_factory=list)
    delta: dict[str, object] = field(default_factory=dict)


def bench_case(pg, runner: Runner, label: str, path: Path, rows: int, repeats: int) -> CaseResult:
    log.info("%s: %s rows, %d repeat(s)", label, f"{rows:,}", repeats)
    result = CaseResult(label, rows)
    reset_database(pg)
    runner.load(path)
    runner.dbt("parse")  # warm the partial-parse cache: every timed command parses alike
    for i in range(repeats):
        result.dbt_build.append(
            runner.dbt("build", "--full-refresh", "--exclude", "test_type:unit", "--select", *ALL_MARTS)
        )
        if i == repeats - 1:
            results = runner.run_results()
            result.build_split, result.build_slowest = time_split(results), slowest(results)
        result.dbt_run.append(runner.dbt("run", "--full-refresh", "--select", *ALL_MARTS))
        result.dbt_core.append(runner.dbt("run", "--full-refresh", "--select", *CORE_MARTS))
        seconds, steps = run_floor(pg, runner)
        result.floor.append(seconds)
        result.floor_steps = steps
    result.floor_differs = check_floor(pg)
    if result.floor_differs:
        log.warning("floor and dbt differ on %s", ", ".join(result.floor_differs))
    else:
        log.info("  floor = dbt on every core mart")
    for _ in range(repeats):
        seconds, rss, _ = runner.run([sys.executable, str(PANDAS_SCRIPT), str(path)])
        result.pandas.append(seconds)
        result.pandas_rss.append(rss)
        log.info("  pandas: %.1fs, peak RSS %.0f MB", seconds, rss)
    return result


def bench_delta(pg, runner: Runner, result: CaseResult, path: Path) -> None:
    """History, full build, then the last day and an incremental build."""
    history, last_day = runner.scratch / "history.csv", runner.scratch / "last_day.csv"
    day, history_rows, day_rows = split_last_day(path, history, last_day)
    log.info("delta: history %s rows, last day %s: %s rows", f"{history_rows:,}", day, f"{day_rows:,}")
    reset_database(pg)
    runner.load(history)
    base = runner.dbt("build", "--full-refresh", "--exclude", "test_type:unit", "--select", *ALL_MARTS)
    load_seconds = runner.load(last_day)
    delta = runner.dbt("build", "--exclude", "test_type:unit", "--select", *ALL_MARTS)
    results = runner.run_results()
    result.delta = {
        "day": day,
        "history_rows": history_rows,
        "day_rows": day_rows,
        "base_build": base,
        "load": load_seconds,
        "build": delta,
        "split": time_split(results),
        "slowest": slowest(results),
    }
    history.unlink()
    last_day.unlink()


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(cases: list[CaseResult]) -> str:
    out = [
        "| input | rows | what | runs | median s | ratio | peak RSS MB |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for case in cases:
        floor = median(case.floor)
        build = median(case.dbt_build)
        rows = f"{case.rows:,}"
        for what, values, ratio, rss in (
            ("floor: hand-written SQL, core marts", case.floor, "1.00 (floor)", "—"),
            ("dbt run --full-refresh, core marts", case.dbt_core, f"{median(case.dbt_core) / floor:.2f}× floor", "—"),
            (
                "dbt run --full-refresh, all sales+customer marts",
                case.dbt_run,
                f"{median(case.dbt_run) / floor:.2f}× floor",
                "—",
            ),
            (
                "dbt build --full-refresh (seeds, models, data tests)",
                case.dbt_build,
                f"{build / floor:.2f}× floor",
                "—",
            ),
            (
                "pandas (CSV → core figures)",
                case.pandas,
                f"{median(case.pandas) / floor:.2f}× floor",
                f"{max(case.pandas_rss):.0f}",
            ),
        ):
            out.append(f"| {case.label} | {rows} | {what} | {len(values)} | {median(values):.1f} | {ratio} | {rss} |")
        if case.delta:
            d = case.delta
            out.append(
                f"| {case.label} | {d['history_rows']:,} | dbt build --full-refresh of the history | 1 "
                f"| {d['base_build']:.1f} | — | — |"
            )
            out.append(
                f"| {case.label} | +{d['day_rows']:,} | daily delta: dbt build after loading {d['day']} | 1 "
                f"| {d['build']:.1f} | {d['build'] / d['base_build']:.1%} of the history build, "
                f"{d['build'] / build:.1%} of the full build | — |"
            )
    out.append("")
    for case in cases:
        split = ", ".join(f"{kind} {seconds:.1f}s" for kind, seconds in sorted(case.build_split.items()))
        out.append(f"{case.label}: full build node time by kind: {split}")
        out.append(f"{case.label}: slowest nodes of the full build:")
        out += [f"  {seconds:8.1f}s  {node}" for node, seconds in case.build_slowest]
        out.append(f"{case.label}: floor statements:")
        out += [f"  {seconds:8.1f}s  {name}" for name, seconds in case.floor_steps if seconds >= 0.05]
        if case.floor_differs:
            out.append(f"{case.label}: floor differs from dbt on {', '.join(case.floor_differs)}")
        if case.delta:
            split = ", ".join(f"{kind} {seconds:.1f}s" for kind, seconds in sorted(case.delta["split"].items()))
            out.append(
                f"{case.label}: delta build node time by kind: {split}; load of the day {case.delta['load']:.1f}s"
            )
            out.append(f"{case.label}: slowest nodes of the delta build:")
            out += [f"  {seconds:8.1f}s  {node}" for node, seconds in case.delta["slowest"]]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the generated file")
    parser.add_argument("--repeats", type=int, default=3, help="repeats on the real file")
    parser.add_argument("--gen-repeats", type=int, default=1, help="repeats on the generated file")
    parser.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "online_retail.csv.gz")
    parser.add_argument("--no-real", action="store_true", help="skip the real file")
    parser.add_argument("--no-generated", action="store_true", help="skip the generated file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    conn = db.resolve()
    pg = db.connect(conn)
    log.info("database %s on %s:%s; %d CPUs", conn.dbname, conn.host, conn.port, os.cpu_count())
    cases: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="segmart-bench-dbt-") as tmp:
        runner = Runner(Path(tmp))
        if not args.no_real and args.real.is_file():
            cases.append(bench_case(pg, runner, "UCI real", args.real, 541_909, args.repeats))
        elif not args.no_real:
            log.info("real file %s absent: skipped", args.real)
        if not args.no_generated:
            generated = Path(tmp) / "generated.csv"
            started = time.perf_counter()
            generate_sales(generated, fmt="uci", rows=args.rows, customers=args.rows // 120, days=730, seed=1)
            log.info("generated %s rows in %.1fs", f"{args.rows:,}", time.perf_counter() - started)
            case = bench_case(pg, runner, "UCI generated", generated, args.rows, args.gen_repeats)
            bench_delta(pg, runner, case, generated)
            cases.append(case)
        loads = runner.loads
    reset_database(pg)
    pg.close()
    sys.stdout.write(report(cases))
    sys.stdout.write(
        f"\nload average (1 min) during the timed steps: min {min(loads):.1f}, median {median(loads):.1f}, "
        f"max {max(loads):.1f} on {os.cpu_count()} CPUs\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
