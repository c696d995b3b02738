"""Report files are named by run date and source; a report shows only the sources that have data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from segmart.report.data import Bank, Block, ReportData, SalesSource
from segmart.report.files import OUTPUT_NAME, prune
from segmart.report.html import render_html
from segmart.report.i18n import Lang
from segmart.report.writer import report_name

RUN_DAY = dt.datetime(2026, 12, 7, 2, 30, tzinfo=dt.UTC)


def _source(system: str, customers: int) -> SalesSource:
    return SalesSource(
        source_system=system,
        names={"source_name": f"Shop {system.upper()}", "source_name_ru": f"Магазин {system.upper()}"},
        currency_code="GBP",
        as_of_date=dt.date(2011, 12, 10) if customers else None,
        customers=customers,
        blocks={"kpis": Block(rows=[])},
    )


def _report(sources: list[SalesSource], bank_clients: int) -> ReportData:
    return ReportData(
        built_at=RUN_DAY,
        has_mart=True,
        segments=[],
        sources=sources,
        bank=Bank(clients=bank_clients),
        problems=[],
        reconciliation=[
            {"source": "uci", "staged": 2000, "accounted": 2000, "kept": 1990},
            {"source": "onec", "staged": 0, "accounted": 0, "kept": 0},
            {"source": "bank clients", "staged": 0, "accounted": 0, "kept": 0},
        ],
        quarantine={},
        failures=0,
        stale=[],
    )


def test_the_file_name_is_the_run_date_and_the_sources_with_data() -> None:
    real = _report([_source("uci", 0), _source("onec", 0)], 0)
    real.sources[0].customers = 4_300
    assert report_name(real) == "segmart_report_2026-12-07_uci.html"  # not the data's 2011-12-10
    both = _report([_source("uci", 10), _source("onec", 5)], 7)
    assert report_name(both) == "segmart_report_2026-12-07_uci-onec-bank.html"
    assert OUTPUT_NAME.match(report_name(both))["family"] == "segmart_report"


def test_prune_counts_reports_of_any_sources_as_one_kind(tmp_path: Path) -> None:
    for name in ("segmart_report_2026-12-05_uci-bank.html", "segmart_report_2026-12-06_uci.html"):
        (tmp_path / name).write_text("x")
    (tmp_path / "segmart_report_2026-12-07_uci.html").write_text("x")
    removed = prune(tmp_path, keep=2)
    assert [p.name for p in removed] == ["segmart_report_2026-12-05_uci-bank.html"]


def test_a_report_shows_only_the_sources_that_have_data() -> None:
    report = _report([_source("uci", 4_300), _source("onec", 0)], 0)
    report.sources[0].blocks = {}  # no charts needed: the section's frame is what counts
    html = render_html(report, Lang("en"))
    assert 'data-source="uci"' in html
    assert 'data-source="onec"' not in html and 'id="bank"' not in html
    assert re.search(r"Not in this report, no data yet: Shop ONEC, Bank", html, re.IGNORECASE)
    reconciliation = html.split('id="reconciliation"', 1)[1].split("</table>", 1)[0]
    assert "<td>uci</td>" in reconciliation
    assert "onec" not in reconciliation and "bank clients" not in reconciliation
    ru = render_html(report, Lang("ru"))
    assert "В отчёт не вошли, данных пока нет: Магазин ONEC" in ru
