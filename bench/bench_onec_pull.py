"""A 1C pull against loading the equivalent CSV export (and the same data as XLSX).

    python bench/bench_onec_pull.py [--rows 100000] [--repeats 3] [--page-size 500] [--no-xlsx]

The generator writes a 1C export of --rows lines; the 1C OData stub of the
tests (``pytests/support/onec_stub.py``, in this process, on 127.0.0.1) serves
the same data as catalogs, orders, sales and returns. In the same run and on
the same server it measures, each as a user runs it (a subprocess, with its
peak RSS from /usr/bin/time):

* baseline: ``segmart sales realizaciya.csv`` (the CSV export);
* pull: ``segmart pull onec`` (a first pull: every document and catalog entry),
  with the number of HTTP requests the stub answered;
* xlsx: ``segmart sales realizaciya.xlsx`` (the same rows as a workbook).

Staging is emptied between runs (and ops.onec_pulls, so that every pull reads
everything). Medians over --repeats runs. The stub's own work (JSON encoding)
runs in this process on the same machine and is part of the pull's seconds.
Uses its own database (``segmart_bench``).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_DBNAME", "segmart_bench")
sys.path.insert(0, str(ROOT))  # pytests.support: the stub and the XLSX writer of the tests

from pytests.support.files import onec_csv_to_xlsx  # noqa: E402
from pytests.support.onec_stub import OnecBase, OnecStub  # noqa: E402
from segmart import db  # noqa: E402
from segmart.generate import generate_sales  # noqa: E402
from segmart.onec.pull import ensure_pull_schema  # noqa: E402

log = logging.getLogger("bench")

RESET = """
truncate staging.sales_onec_lines, staging.load_quarantine, staging.onec_withdrawn_documents;
delete from staging.load_batches where target = 'sales_onec_lines';
delete from ops.onec_pulls;
"""


def timed(pg, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one ``segmart <args>`` run after emptying staging."""
    with pg.cursor() as cur:
        cur.execute(RESET)
    pg.commit()
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "segmart", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"segmart {' '.join(args)} failed: {result.stderr[-3000:]}")
    return elapsed, int(result.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="document lines (default: 100000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=500, help="SEGMART_ONEC_PAGE_SIZE of the pull")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX row")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pg = db.connect(db.resolve())
    ensure_pull_schema(pg)
    table = [
        f"{args.rows:,} document lines, medians of {args.repeats} runs",
        "",
        "| method | median s | lines/s | requests | peak RSS MB | time vs CSV load |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="segmart-onec-bench-") as tmp:
        export = Path(tmp) / "realizaciya.csv"
        generate_sales(export, fmt="onec", rows=args.rows, customers=max(1000, args.rows // 120), days=365, seed=1)
        workbook = Path(tmp) / "realizaciya.xlsx"
        if not args.no_xlsx:
            onec_csv_to_xlsx(export, workbook)
        base = OnecBase.from_export(export)
        with OnecStub(base) as stub:
            env = {**stub.env(), "SEGMART_ONEC_PAGE_SIZE": str(args.page_size), "SEGMART_ARCHIVE_DIR": tmp}
            runs: dict[str, list[tuple[float, float]]] = {"csv": [], "pull": [], "xlsx": []}
            requests: list[int] = []
            for repeat in range(args.repeats):
                runs["csv"].append(timed(pg, ["sales", str(export)], {}))
                before = len(stub.seen)
                runs["pull"].append(timed(pg, ["pull", "onec"], env))
                requests.append(len(stub.seen) - before)
                if not args.no_xlsx:
                    runs["xlsx"].append(timed(pg, ["sales", str(workbook)], {}))
                log.info("run %d: %s", repeat + 1, {k: f"{v[-1][0]:.2f}s" for k, v in runs.items() if v})
        baseline = statistics.median(s for s, _ in runs["csv"])
        labels = {"csv": "CSV export (`sales`)", "pull": "1C pull (`pull onec`)", "xlsx": "XLSX (`sales`)"}
        for key, label in labels.items():
            if not runs[key]:
                continue
            seconds = statistics.median(s for s, _ in runs[key])
            rss = statistics.median(r for _, r in runs[key])
            asked = str(int(statistics.median(requests))) if key == "pull" else "—"
            table.append(
                f"| {label} | {seconds:.2f} | {args.rows / seconds:,.0f} | {asked} | {rss:.0f} | "
                f"{seconds / baseline:.2f}× |"
            )
    with pg.cursor() as cur:
        cur.execute(RESET)
    pg.commit()
    pg.close()
    sys.stdout.write("\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
