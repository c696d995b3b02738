"""The `report` command and its settings (options, else SEGMART_REPORT_* variables)."""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from segmart.report.csvout import DELIMITERS
from segmart.report.i18n import LANGS

log = logging.getLogger("segmart.report")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KEEP = 7


class ReportSettingsError(ValueError):
    """A report option or SEGMART_REPORT_* variable has an unusable value."""


@dataclass(frozen=True)
class ReportSettings:
    out_dir: Path
    lang: str
    keep: int
    csv_delimiter: str
    stale_days: int


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ReportSettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise ReportSettingsError(f"{name}={raw!r} must be at least 1")
    return value


def report_settings(args: argparse.Namespace | None = None) -> ReportSettings:
    """Command-line options win over SEGMART_REPORT_DIR / _LANG / _KEEP / _CSV_DELIMITER / _STALE_DAYS."""

    def option(name: str) -> object:
        return getattr(args, name, None) if args is not None else None

    out = option("out") or os.environ.get("SEGMART_REPORT_DIR") or "reports"
    out_dir = Path(out).expanduser()
    if not out_dir.is_absolute():
        out_dir = PROJECT_ROOT / out_dir
    lang = option("lang") or os.environ.get("SEGMART_REPORT_LANG", "en").strip() or "en"
    if lang not in LANGS:
        raise ReportSettingsError(f"report language {lang!r} is not one of {', '.join(LANGS)} (SEGMART_REPORT_LANG)")
    keep = option("keep") or _int_env("SEGMART_REPORT_KEEP", DEFAULT_KEEP)
    delimiter = option("csv_delimiter") or os.environ.get("SEGMART_REPORT_CSV_DELIMITER", ";")
    if delimiter not in DELIMITERS:
        raise ReportSettingsError(f"CSV delimiter {delimiter!r} is not one of {' '.join(DELIMITERS)}")
    return ReportSettings(out_dir, lang, int(keep), delimiter, _int_env("SEGMART_REPORT_STALE_DAYS", 7))


def run_report(conn, settings: ReportSettings) -> list[Path]:
    from segmart.report.writer import write_reports

    return write_reports(
        conn,
        settings.out_dir,
        settings.lang,
        keep=settings.keep,
        csv_delimiter=settings.csv_delimiter,
        stale_days=settings.stale_days,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGS, help="report language (default: SEGMART_REPORT_LANG or en)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: SEGMART_REPORT_DIR or reports/)")
    parser.add_argument(
        "--keep", type=_positive, help="keep the newest N reports of each kind (default: SEGMART_REPORT_KEEP or 7)"
    )
    parser.add_argument(
        "--csv-delimiter", choices=DELIMITERS, help="CSV delimiter (default: ';', what Russian Excel expects)"
    )


def _command(args: argparse.Namespace) -> int:
    # the connection helpers move with the lead's restructuring; imported here so this module has no
    # dependency on where they live
    from loaders import db
    from loaders.settings import SegmartError

    try:
        settings = report_settings(args)
    except ReportSettingsError as exc:
        raise SegmartError(str(exc)) from None
    conn = db.connect()
    try:
        written = run_report(conn, settings)
    finally:
        conn.close()
    log.info("report files in %s:\n%s", settings.out_dir, "\n".join(f"  {p.name}" for p in written))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write the manager report (HTML) and the segment lists (XLSX, CSV) from data_mart"
    )
    add_report_options(parser)
    parser.set_defaults(func=_command)
