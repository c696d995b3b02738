"""``generate`` sub-command: ``generate sales ...`` and ``generate bank ...``."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import date

from loaders.generate.bank import generate_bank
from loaders.generate.sales import FORMATS, generate_sales

log = logging.getLogger(__name__)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _run_sales(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    stats = generate_sales(
        args.out,
        fmt=args.format,
        rows=args.rows,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        encoding=args.encoding,
        delimiter=args.delimiter,
    )
    elapsed = time.perf_counter() - started
    log.info(
        "generated %s: %s rows, %s invoices (%s cancellations), %s customers, %s bytes in %.1f s",
        stats["path"],
        stats["rows"],
        stats["invoices"],
        stats["cancellations"],
        stats["customers"],
        stats["bytes"],
        elapsed,
    )
    return 0


def _run_bank(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    stats = generate_bank(
        args.out_dir,
        clients=args.clients,
        usages=args.usages,
        seed=args.seed,
        start_date=args.start_date,
        days=args.days,
    )
    elapsed = time.perf_counter() - started
    log.info(
        "generated %s: %s clients, %s usages (%s with unknown client_id), %s clients without usage, %s bytes in %.1f s",
        stats["out_dir"],
        stats["clients"],
        stats["usages"],
        stats["orphan_usages"],
        stats["clients_without_usage"],
        stats["bytes"],
        elapsed,
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``generate {sales,bank}`` to an existing sub-parser set."""
    gen = subparsers.add_parser("generate", help="write deterministic synthetic input files")
    kinds = gen.add_subparsers(dest="generate_kind", metavar="{sales,bank}", required=True)

    sales = kinds.add_parser("sales", help="sales export (UCI Online Retail I/II or 1C:ERP lines)")
    sales.add_argument("--format", choices=FORMATS, default="uci", help="output layout (default: uci)")
    sales.add_argument("--rows", type=_non_negative, default=50_000, help="data lines to write (default: 50000)")
    sales.add_argument("--customers", type=_positive, default=500, help="size of the customer base (default: 500)")
    sales.add_argument("--days", type=_positive, default=365, help="calendar days covered (default: 365)")
    sales.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    sales.add_argument(
        "--start-date", type=_iso_date, default=None, help="first day (default: 2010-12-01 for UCI, 2023-01-01 for 1C)"
    )
    sales.add_argument("--encoding", default=None, help="default: utf-8 for UCI, cp1251 for 1C")
    sales.add_argument("--delimiter", default=None, help="default: ',' for UCI, ';' for 1C")
    sales.add_argument("out", metavar="OUT", help="output file; a .gz suffix compresses it")
    sales.set_defaults(func=_run_sales)

    bank = kinds.add_parser("bank", help="bank clients.csv and product_usage.csv")
    bank.add_argument("--clients", type=_positive, default=5_000, help="clients (default: 5000)")
    bank.add_argument("--usages", type=_non_negative, default=40_000, help="usage rows (default: 40000)")
    bank.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    bank.add_argument("--start-date", type=_iso_date, default=date(2023, 1, 1), help="first day (default: 2023-01-01)")
    bank.add_argument("--days", type=_positive, default=730, help="days covered (default: 730)")
    bank.add_argument("out_dir", metavar="OUT_DIR", help="directory for the two CSV files")
    bank.set_defaults(func=_run_bank)
