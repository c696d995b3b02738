"""One report run: read the marts once, write the HTML and the lists atomically, prune old ones."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import psycopg2.extensions

from segmart.report import data
from segmart.report.csvout import write_csv
from segmart.report.files import atomic_output, prune, remove_stale_temps
from segmart.report.html import render_html
from segmart.report.i18n import Lang
from segmart.report.lists import CustomerList, cross_sell_list, segment_list
from segmart.report.settings import ReportSettings
from segmart.report.xlsx import write_xlsx

log = logging.getLogger("segmart.report")


def _lists(conn: psycopg2.extensions.connection, lang: Lang, report: data.ReportData) -> list[CustomerList]:
    catalog = data.Catalog.read(conn)
    run_date = report.built_at.date()
    out = []
    for source in report.sources:
        if source.customers and source.as_of_date:
            out.append(segment_list(conn, catalog, lang, source, report.segments, run_date))
    bank = report.bank
    if bank and bank.clients and bank.as_of_date:
        try:
            catalog.require("client_cross_sell", "bank_segments", "bank_products")
        except data.Missing as exc:
            log.warning("no cross-sell list: %s is missing", exc)
        else:
            out.append(cross_sell_list(conn, lang, run_date))
    return out


def report_name(report: data.ReportData) -> str:
    """``segmart_report_<run date>_<sources with data>.html``: the newest file is the latest run."""
    sources = [s.source_system for s in report.sources if s.has_data]
    if report.bank and report.bank.clients:
        sources.append("bank")
    return f"segmart_report_{report.built_at.date().isoformat()}{'_' + '-'.join(sources) if sources else ''}.html"


def write_reports(
    conn: psycopg2.extensions.connection,
    out_dir: Path,
    lang: str,
    *,
    keep: int = 7,
    csv_delimiter: str = ";",
    stale_days: int = 7,
) -> list[Path]:
    """Write the HTML report and the segment lists of the current data_mart into `out_dir`.

    Every file is written under a temporary name and renamed when complete; after a
    successful run only the newest `keep` files of each kind stay. Returns the files written.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, not {keep}")
    language = Lang(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    started = time.perf_counter()
    data.begin_snapshot(conn)
    try:
        report = data.read_report_data(conn, stale_days=stale_days)
        written: list[Path] = []
        for listing in _lists(conn, language, report):
            for suffix, write in (
                (".xlsx", lambda p, li=listing: write_xlsx(p, li, language)),
                (".csv", lambda p, li=listing: write_csv(p, li, delimiter=csv_delimiter)),
            ):
                final = out_dir / f"{listing.stem}{suffix}"
                with atomic_output(final) as temp:
                    rows = write(temp)
                log.info("wrote %s (%s rows)", final, f"{rows:,}")
                written.append(final)
        html = render_html(report, language, stale_days=stale_days, files=[p.name for p in written])
        final = out_dir / report_name(report)
        with atomic_output(final) as temp:
            temp.write_text(html, encoding="utf-8")
        written.append(final)
        log.info("wrote %s (%.1f MB) in %.1fs", final, final.stat().st_size / 1e6, time.perf_counter() - started)
    finally:
        conn.rollback()
    if language.missing:
        log.warning("report labels without a %s text: %s", lang, ", ".join(sorted(language.missing)))
    for path in prune(out_dir, keep):
        log.info("removed old report %s (keeping the newest %d)", path.name, keep)
    return written


def run_report(conn: psycopg2.extensions.connection, settings: ReportSettings) -> list[Path]:
    """write_reports with the settings of the command line / environment."""
    return write_reports(
        conn,
        settings.out_dir,
        settings.lang,
        keep=settings.keep,
        csv_delimiter=settings.csv_delimiter,
        stale_days=settings.stale_days,
    )
