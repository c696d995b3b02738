"""What the "documents made smaller" check costs a load, in the worst case.

    python bench/bench_shrinkage.py [--real PATH] [--repeats 3]

Lands the real UCI file (541,909 lines), then a second file, in two cases:

* worst: a re-send of the whole file without its last line (every document of
  the new load is in the earlier one);
* daily: the file's first 2,000 lines (a small load against the history).

Measures, in the same run and on the same server, medians over --repeats runs:
the whole load of the second file (``load_file``: detection, COPY, quarantine,
the check, commit) — the baseline — and the check alone (``measure_shrinkage``
on that load, read-only). Prints both and the check's share of the load. Uses its own database
(``segmart_bench``) on the configured or embedded server.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["SEGMART_PG_DBNAME"] = os.environ.get("SEGMART_BENCH_DBNAME", "segmart_bench")

from loaders.formats import SALES_FORMATS  # noqa: E402
from loaders.load import ensure_schema, load_file  # noqa: E402
from loaders.shrinkage import measure_shrinkage  # noqa: E402
from segmart import db  # noqa: E402

log = logging.getLogger("bench")
DEFAULT_REAL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"


def reset(pg) -> None:
    with pg.cursor() as cur:
        cur.execute("truncate staging.sales_uci_lines, staging.load_quarantine")
        cur.execute("delete from staging.load_batches where target = 'sales_uci_lines'")
    pg.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real", type=Path, default=Path(os.environ.get("SEGMART_REAL_DATA", DEFAULT_REAL)))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.real.is_file():
        log.error("the UCI file is not at %s (--real or SEGMART_REAL_DATA)", args.real)
        return 2
    pg = db.connect()
    ensure_schema(pg)
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "online_retail.csv"
        with gzip.open(args.real, "rb") as source:
            data = source.read()
        full.write_bytes(data)
        lines = data.split(b"\n")
        cases = {
            "worst (re-send of all but the last line)": b"\n".join(lines[:-2]) + b"\n",
            "daily (the first 2,000 lines)": b"\n".join(lines[:2001]) + b"\n",
        }
        for case, content in cases.items():
            second = Path(tmp) / "second.csv"
            second.write_bytes(content)
            loads, checks, documents, rows = [], [], 0, 0
            for run in range(args.repeats):
                reset(pg)
                load_file(pg, full, SALES_FORMATS)
                started = time.perf_counter()
                result = load_file(pg, second, SALES_FORMATS)
                loads.append(time.perf_counter() - started)
                with pg.cursor() as cur:
                    started = time.perf_counter()
                    shrunk = measure_shrinkage(cur, "sales_uci_lines", result.load_id)
                    checks.append(time.perf_counter() - started)
                pg.rollback()
                documents, rows = (shrunk.documents if shrunk else 0), result.rows_read
                log.info("%s, run %d: load %.3f s, check %.3f s", case, run + 1, loads[-1], checks[-1])
            load, check = statistics.median(loads), statistics.median(checks)
            log.info(
                "%s: %s lines after 541,909; load (baseline) median %.3f s, the check alone median %.3f s = "
                "%.1f %% of the load (%d document(s) found smaller)",
                case,
                f"{rows:,}",
                load,
                check,
                100 * check / load,
                documents,
            )
    pg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
