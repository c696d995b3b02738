"""Commands: load exports, run the whole job."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from loaders import db
from loaders.formats import ALL_FORMATS, BANK_FORMATS, SALES_FORMATS, Format
from loaders.load import LoadResult, load_files

log = logging.getLogger("segmart")


def _load_command(formats: tuple[Format, ...]):
    def run(args: argparse.Namespace) -> int:
        forced = ALL_FORMATS[args.format] if args.format else None
        pg = db.connect()
        try:
            results = load_files(
                pg,
                [Path(p) for p in args.files],
                formats,
                forced_format=forced,
                encoding=args.encoding,
                delimiter=_delimiter(args.delimiter),
                checked=args.checked,
            )
        finally:
            pg.close()
        return report(results)

    return run


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    return {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}.get(value, value)


def report(results: list[LoadResult]) -> int:
    loaded = sum(r.rows_loaded for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    skipped = sum(r.blank_lines + r.duplicate_rows for r in results)
    failed = [r for r in results if r.status == "failed"]
    log.info(
        "total: %d file(s), %d failed; rows loaded %s, quarantined %s, skipped %s",
        len(results),
        len(failed),
        f"{loaded:,}",
        f"{quarantined:,}",
        f"{skipped:,}",
    )
    return 1 if failed else 0


def _add_load_parser(sub: argparse._SubParsersAction, name: str, formats: tuple[Format, ...], help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV files, optionally .gz")
    parser.add_argument("--format", choices=[f.name for f in formats], help="skip header detection")
    parser.add_argument("--encoding", help="e.g. utf-8, cp1251 (default: detected)")
    parser.add_argument("--delimiter", help="',', ';' or 'tab' (default: detected from the header)")
    parser.add_argument("--checked", action="store_true", help="always check rows in Python (skip the COPY fast path)")
    parser.set_defaults(func=_load_command(formats))


def register(sub: argparse._SubParsersAction) -> None:
    from loaders import build
    from loaders.generate import cli as generate_cli
    from segmart import report

    generate_cli.register(sub)
    build.register(sub)
    report.register(sub)
    _add_load_parser(sub, "sales", SALES_FORMATS, "load UCI Online Retail or 1C:ERP sales exports into staging")
    _add_load_parser(sub, "bank", BANK_FORMATS, "load bank clients / product-usage CSVs into staging")
