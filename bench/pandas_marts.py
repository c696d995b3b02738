"""The core sales and customer marts recomputed with pandas straight from a UCI Online Retail CSV.

    python bench/pandas_marts.py FILE [--chunk-rows 1000000]

A thin benchmark CLI over the reference implementation of the business rules,
``pytests/support/reference.py`` (the same code the cross-check tests compare
the marts with). ``bench/bench_dbt.py`` runs it as the pandas alternative to
dbt; it prints a summary of the figures it computed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from pytests.support.reference import Marts, money

log = logging.getLogger("pandas_marts")


def summary(marts: Marts) -> str:
    facts = marts.facts()
    monthly = marts.monthly()
    cohorts = marts.cohorts()
    countries, products = marts.abc_countries(), marts.abc_products()
    rfm = marts.rfm()
    lines = [f"# {marts.path.name}", "", "| fact | value |", "|---|---:|"]
    for key, value in facts.items():
        lines.append(f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |")
    lines += [
        f"| total revenue | {marts.total_revenue():,.2f} |",
        f"| months | {len(monthly)} ({monthly['month_start'].min()} … {monthly['month_start'].max()}) |",
        f"| orders | {int(monthly['orders'].sum()):,} |",
        f"| cohorts / cells | {cohorts['cohort_month'].nunique()} / {len(cohorts)} |",
        f"| last observable month | {marts.last_observable_month} |",
    ]
    for name, frame in (("countries", countries), ("products", products)):
        counts = frame["abc_class"].value_counts().reindex(["A", "B", "C"], fill_value=0)
        lines.append(f"| {name} A/B/C | {counts['A']} / {counts['B']} / {counts['C']} |")
    lines += [
        f"| RFM customers | {len(rfm):,} |",
        f"| median recency / frequency / monetary | {rfm['recency_days'].median():g} / "
        f"{rfm['frequency'].median():g} / {money(int(rfm['monetary'].median())):,.2f} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="UCI Online Retail CSV (or .csv.gz)")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    started = time.perf_counter()
    marts = Marts(args.file, chunk_rows=args.chunk_rows)
    text = summary(marts)
    log.info("computed in %.1fs", time.perf_counter() - started)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
