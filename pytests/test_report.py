"""The manager report and the segment lists, end to end on a real PostgreSQL and a real browser.

The HTML is opened in Debian's headless chromium with the network emulated
offline; the XLSX files are read back with openpyxl and the CSV files with
pandas; every number compared comes from a query on the marts, never from the
report code.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pytests.support import ROOT
from pytests.support.browser import CHART_PROBE, Browser, PageResult, chromium_or_skip
from pytests.support.db import reset_database, rows, scalar
from pytests.support.runs import run_cli, run_dbt
from segmart import db
from segmart.generate import generate_bank, generate_sales
from segmart.report import write_reports
from segmart.report.files import OUTPUT_NAME, TEMP_PREFIX, prune
from segmart.report.i18n import LANGS, MESSAGES, MISSING_KEY, Lang

ARTIFACTS = ROOT / "pytests" / "artifacts"
BUILD = ("build", "--exclude-resource-type", "test", "unit_test")
# what the page shows, for the number checks: tiles, segment table rows, chart data
NUMBERS_PROBE = """
(() => {
  const tiles = {}, segments = {}, clusters = {}, bank = {};
  document.querySelectorAll('section.sales').forEach(sec => {
    const sid = sec.dataset.source;
    tiles[sid] = {}; segments[sid] = {}; clusters[sid] = {};
    sec.querySelectorAll('[data-kpi]').forEach(t => {
      tiles[sid][t.dataset.kpi] = t.querySelector('.value').innerText;
    });
    sec.querySelectorAll('tr[data-segment]').forEach(r => {
      segments[sid][r.dataset.segment] = r.querySelector('.customers').innerText;
    });
    sec.querySelectorAll('tr[data-cluster]').forEach(r => {
      clusters[sid][r.dataset.cluster] = r.querySelector('.customers').innerText;
    });
  });
  document.querySelectorAll('tr[data-bank-segment]').forEach(r => {
    bank[r.dataset.bankSegment] = r.querySelector('.clients').innerText;
  });
  return {tiles, segments, clusters, bank};
})()
"""


# --- helpers --------------------------------------------------------------------------------


def parse_number(text: str) -> Decimal:
    """A shown number back to a Decimal: '£1,234.50', '1 234,50 ₽', '12.5%' (→ 0.125), '-3,2'."""
    clean = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    percent = clean.endswith("%")
    if "," in clean and "." not in clean and re.search(r",\d{1,2}(%|₽|£|$)", clean + "$"):
        clean = clean.replace(",", ".")  # Russian decimal comma
    clean = re.sub(r"[^0-9.\-]", "", clean.replace(",", ""))
    value = Decimal(clean)
    return value / 100 if percent else value


def open_page(path: Path, artefact: str, *, pdf: bool = False) -> PageResult:
    chromium_or_skip()
    with Browser() as browser:
        result = browser.open(path, CHART_PROBE)
        result.numbers = browser.evaluate(NUMBERS_PROBE)
        if pdf:
            result.pdf = browser.print_pdf()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{artefact}.png").write_bytes(result.screenshot)
    if pdf:
        (ARTIFACTS / f"{artefact}.pdf").write_bytes(result.pdf)
    return result


def assert_page_clean(page: PageResult) -> None:
    assert page.console_errors == [], page.console_errors
    assert page.exceptions == [], page.exceptions
    assert page.external_requests == [], f"the page asked the network for {page.external_requests}"
    charts = page.values["charts"]
    assert len(charts) == page.values["declared"], "every chart the page declares must be in it"
    blank = [c["id"] for c in charts if not c["svg"] or c["marks"] == 0 or c["width"] < 100]
    assert blank == [], f"charts that did not render: {blank}"
    assert MISSING_KEY.format("")[0] not in page.values["text"], "an untranslated label is on the page"
    assert "Traceback" not in page.values["text"]


def load_and_build(dbt_dir: Path, folder: Path, *, sales: bool, bank: bool) -> None:
    if sales:
        generate_sales(folder / "uci.csv", fmt="uci", rows=8_000, customers=300, days=200, seed=5)
        with (folder / "uci.csv").open("a", encoding="utf-8") as handle:  # one row the loader quarantines
            handle.write("536999,85123A,BROKEN ROW,many,2010-12-01 08:26:00,2.55,17850,United Kingdom\n")
        generate_sales(folder / "onec.csv", fmt="onec", rows=3_000, customers=90, days=150, seed=6)
        run_cli("sales", str(folder / "uci.csv"), str(folder / "onec.csv"))
    if bank:
        generate_bank(folder / "bank", clients=800, usages=5_000, seed=7)
        run_cli("bank", str(folder / "bank" / "clients.csv"), str(folder / "bank" / "product_usage.csv"))
    run_dbt(*BUILD, tmp_target=dbt_dir)


def html_of(files: list[Path]) -> Path:
    (html,) = [p for p in files if p.suffix == ".html"]
    return html


# --- no database needed ---------------------------------------------------------------------


def test_every_label_has_both_languages_and_money_formats_follow_the_language() -> None:
    lacking = sorted(key for key, texts in MESSAGES.items() if set(texts) != set(LANGS) or not all(texts.values()))
    assert lacking == []
    ru, en = Lang("ru"), Lang("en")
    assert ru.money(Decimal("1234567.891"), "RUB") == "1\u00a0234\u00a0567,89\u00a0₽"
    assert en.money(Decimal("1234567.891"), "GBP") == "£1,234,567.89"
    assert en.money(Decimal("-5"), "GBP") == "-£5.00"
    assert ru.month(__import__("datetime").date(2011, 12, 1)).startswith("дек")
    with pytest.raises(ValueError, match="unknown report language"):
        Lang("de")


def test_prune_keeps_the_newest_n_of_each_kind_and_nothing_else(tmp_path: Path) -> None:
    names = [f"segmart_report_2024-0{m}-01.html" for m in range(1, 6)] + [
        f"segments_uci_2024-0{m}-01.xlsx" for m in range(1, 4)
    ]
    for name in [*names, "notes.txt", "segmart_report_draft.html"]:
        (tmp_path / name).write_text("x")
    removed = prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == [
        "segmart_report_2024-01-01.html",
        "segmart_report_2024-02-01.html",
        "segmart_report_2024-03-01.html",
        "segments_uci_2024-01-01.xlsx",
    ]
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "segmart_report_draft.html").exists()


# --- the full sample: sales (two currencies) and bank ----------------------------------------


@pytest.fixture(scope="module")
def full(connection_info, dbt_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = db.connect(connection_info)
    try:
        reset_database(conn)
        folder = tmp_path_factory.mktemp("report-full")
        load_and_build(dbt_dir, folder, sales=True, bank=True)
        out: dict = {"folder": folder}
        for lang in LANGS:
            out[lang] = write_reports(conn, folder / lang, lang, keep=3, csv_delimiter=";" if lang == "ru" else ",")
        yield out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pages(full: dict) -> dict[str, PageResult]:
    return {lang: open_page(html_of(full[lang]), f"report_{lang}", pdf=True) for lang in LANGS}


@pytest.mark.slow
def test_report_renders_offline_in_chromium_in_both_languages(full: dict, pages: dict[str, PageResult], pg) -> None:
    for lang, page in pages.items():
        assert_page_clean(page)
        # per sales source: trends, segments ×2, movement ×2, cohorts, lifecycle, ABC ×2;
        # bank: pie, cross-sell, income
        assert len(page.values["charts"]) == 2 * 11 + 3, lang  # 11 per sales source, 3 bank
        size = html_of(full[lang]).stat().st_size
        assert size < 8_000_000, f"{lang} report is {size:,} bytes"
        # printed on A4: the header page, one page or more per sales source, the bank
        pages_printed = len(re.findall(rb"/Type\s*/Page\b", page.pdf))
        assert pages_printed >= 4, f"{lang}: {pages_printed} A4 pages"
    for lang in LANGS:
        text = pages[lang].values["text"]
        for name, description in rows(
            pg, f"select segment_name_{lang}, segment_description_{lang} from data_mart.rfm_segments"
        ):
            assert name in text and description in text
        for (name,) in rows(pg, f"select segment_name{'_en' if lang == 'en' else ''} from data_mart.bank_segments"):
            assert name in text
    assert "Champions" not in pages["ru"].values["text"] and "Чемпионы" not in pages["en"].values["text"]


@pytest.mark.slow
def test_numbers_shown_equal_the_marts(pages: dict[str, PageResult], pg) -> None:
    for lang, page in pages.items():
        numbers = page.numbers
        for sid in ("uci", "onec"):
            complete = rows(
                pg,
                "select revenue, orders, customers, aov, repeat_purchase_rate from data_mart.monthly_kpis "
                "where source_system = %s and is_complete_month order by month_start desc limit 1",
                (sid,),
            )[0]
            tiles = numbers["tiles"][sid]
            assert parse_number(tiles["revenue"]) == round(complete[0], 2), (lang, sid, tiles["revenue"])
            assert parse_number(tiles["orders"]) == complete[1]
            assert parse_number(tiles["customers"]) == complete[2]
            assert parse_number(tiles["aov"]) == round(complete[3], 2)
            assert abs(parse_number(tiles["repeat_purchase_rate"]) - complete[4]) <= Decimal("0.0005")
            counted = dict(
                rows(
                    pg,
                    "select rfm_segment, count(*) from data_mart.customer_rfm where source_system = %s group by 1",
                    (sid,),
                )
            )
            shown = {seg: int(parse_number(v)) for seg, v in numbers["segments"][sid].items()}
            assert shown == {seg: counted.get(seg, 0) for seg in shown} and len(shown) == 11
            # the cohort heatmap: every observable cell is the mart's rate, the others are empty
            (cohort_chart,) = [c for c in page.values["charts"] if c["id"] == f"chart-cohorts-{sid}"]
            z = cohort_chart["data"][0]["z"]
            cells = rows(
                pg,
                "select cohort_month, months_since_first_purchase, is_observable, retention_rate "
                "from data_mart.cohort_retention where source_system = %s order by 1, 2",
                (sid,),
            )
            cohorts = sorted({c[0] for c in cells})
            assert len(z) == len(cohorts)
            empty = 0
            for cohort, month, observable, rate in cells:
                shown_rate = z[cohorts.index(cohort)][month]
                if observable:
                    assert shown_rate == pytest.approx(float(rate)), (sid, cohort, month)
                else:
                    assert shown_rate is None
                    empty += 1
            assert empty > 0, "the partial as-of month must show as empty cells"
            # k-means clusters: the sizes shown are the customers assigned in customer_clusters,
            # and the elbow curve plots rfm_cluster_elbow's sums of squares
            assigned = dict(
                rows(
                    pg,
                    "select cluster_id::text, count(*) from data_mart.customer_clusters "
                    "where source_system = %s group by 1",
                    (sid,),
                )
            )
            shown_clusters = {c: int(parse_number(v)) for c, v in numbers["clusters"][sid].items()}
            assert shown_clusters == assigned and shown_clusters
            (elbow_chart,) = [c for c in page.values["charts"] if c["id"] == f"chart-elbow-{sid}"]
            wss = rows(
                pg,
                "select within_cluster_sum_of_squares from data_mart.rfm_cluster_elbow "
                "where source_system = %s order by k",
                (sid,),
            )
            assert elbow_chart["data"][0]["y"] == pytest.approx([float(w) for (w,) in wss])
        bank = {code: int(parse_number(v)) for code, v in numbers["bank"].items()}
        assert bank == dict(
            rows(pg, "select client_segment_code, count(*) from data_mart.client_segments group by 1")
        ) | {
            code: 0
            for code in bank
            if code not in dict(rows(pg, "select client_segment_code, 1 from data_mart.client_segments"))
        }


@pytest.mark.slow
def test_partial_current_month_is_left_out_of_the_key_figures(full: dict, pg) -> None:
    partial = scalar(
        pg, "select max(month_start) from data_mart.monthly_kpis where source_system = 'uci' and not is_complete_month"
    )
    assert partial is not None, "the fixture data must end in the middle of a month"
    html = html_of(full["en"]).read_text(encoding="utf-8")
    last_complete = scalar(
        pg, "select max(month_start) from data_mart.monthly_kpis where source_system = 'uci' and is_complete_month"
    )
    assert f"{Lang('en').long_month(partial)} is incomplete" in html
    assert f"{Lang('en').long_month(last_complete)} (last complete month)" in html


@pytest.mark.slow
def test_segment_xlsx_has_a_sheet_per_segment_with_typed_cells(full: dict, pg) -> None:
    for lang in LANGS:
        for sid in ("uci", "onec"):
            (path,) = [p for p in full[lang] if p.name.startswith(f"segments_{sid}_") and p.suffix == ".xlsx"]
            book = openpyxl.load_workbook(path)
            segments = rows(
                pg, f"select rfm_segment, segment_name_{lang} from data_mart.rfm_segments order by segment_order"
            )
            assert book.sheetnames == [name for _, name in segments]
            counts = dict(
                rows(
                    pg,
                    "select rfm_segment, count(*) from data_mart.customer_rfm where source_system = %s group by 1",
                    (sid,),
                )
            )
            money = "£" if sid == "uci" else "₽"
            for code, name in segments:
                sheet = book[name]
                assert sheet.max_row - 1 == counts.get(code, 0), (lang, sid, code)
                assert sheet.freeze_panes == "A2"
                assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
                for row in sheet.iter_rows(min_row=2, max_row=min(sheet.max_row, 40)):
                    assert row[1].data_type == "n" and isinstance(row[1].value, int)  # recency
                    assert row[3].data_type == "n" and money in row[3].number_format  # monetary
                    assert row[8].is_date and row[9].is_date  # first / last purchase
            first = book[segments[0][1]]
            if first.max_row > 1:
                customer = first.cell(2, 1).value
                expected = rows(
                    pg,
                    (
                        "select monetary, last_purchase_date from data_mart.customer_rfm where "
                        "source_system = %s and customer_id = %s"
                    ),
                    (sid, str(customer)),
                )[0]
                assert Decimal(str(first.cell(2, 4).value)) == round(expected[0], 2)
                assert first.cell(2, 10).value.date() == expected[1]


@pytest.mark.slow
def test_cross_sell_list_holds_every_bank_client(full: dict, pg) -> None:
    (path,) = [p for p in full["en"] if p.name.startswith("cross_sell_") and p.suffix == ".xlsx"]
    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row - 1 == scalar(pg, "select count(*) from data_mart.client_cross_sell")
    suggested = dict(rows(pg, "select client_id, suggested_product_code from data_mart.client_cross_sell"))
    names = dict(rows(pg, "select product_code, product_name_en from data_mart.bank_products"))
    for row in sheet.iter_rows(min_row=2, max_row=50, values_only=True):
        assert row[4] == names.get(suggested[row[0]])


@pytest.mark.slow
def test_csv_round_trips_with_pandas_in_both_delimiter_modes(full: dict, pg) -> None:
    for lang, delimiter, decimal in (("ru", ";", ","), ("en", ",", ".")):
        (path,) = [p for p in full[lang] if p.name.startswith("segments_uci_") and p.suffix == ".csv"]
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
        frame = pd.read_csv(path, sep=delimiter, decimal=decimal, encoding="utf-8-sig", dtype={0: str, 1: str})
        expected = rows(
            pg, "select count(*), sum(round(monetary, 2)) from data_mart.customer_rfm where source_system = 'uci'"
        )[0]
        assert len(frame) == expected[0]
        money = frame.iloc[:, 4]
        assert money.dtype.kind == "f"
        assert Decimal(str(round(money.sum(), 2))) == expected[1]
        dates = pd.to_datetime(frame.iloc[:, 10], format="%Y-%m-%d")
        assert dates.max().date() == scalar(
            pg, "select max(last_purchase_date) from data_mart.customer_rfm where source_system = 'uci'"
        )


@pytest.mark.slow
def test_a_killed_report_run_leaves_no_partial_file_under_the_final_name(full: dict, pg, tmp_path: Path) -> None:
    # enough customers that the lists take seconds to write
    with pg.cursor() as cur:
        cur.execute(
            """
            insert into data_mart.customer_rfm
            select source_system, customer_id || '-' || g, currency_code, as_of_date, first_purchase_date,
                last_purchase_date, recency_days, frequency, monetary, return_count, return_amount,
                r_score, f_score, m_score, rfm_score, rfm_segment
            from data_mart.customer_rfm cross join generate_series(1, 200) as g
            where source_system = 'uci'
            """
        )
    pg.commit()
    out = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "segmart", "report", "--out", str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    temps: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None and not temps:
        temps = list(out.glob(f"{TEMP_PREFIX}*")) if out.is_dir() else []
        time.sleep(0.005)
    assert temps, (
        f"the run ended before it wrote anything: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
    )
    process.send_signal(signal.SIGKILL)
    process.wait()
    finals = [p for p in out.iterdir() if OUTPUT_NAME.match(p.name)]
    for temp in temps:
        final = out / temp.name.split("-", 2)[-1]
        assert not final.exists(), f"{final.name} exists although its temporary file was being written"
    for path in finals:  # whatever did get its final name is complete
        if path.suffix == ".xlsx":
            openpyxl.load_workbook(path, read_only=True).close()
        else:
            assert path.read_bytes().endswith(b"\r\n")
    # a new run writes everything, under the final names only
    written = write_reports(pg, out, "en", keep=3, csv_delimiter=";")
    assert all(p.exists() and OUTPUT_NAME.match(p.name) for p in written)


# --- edge cases: each starts from an empty database ------------------------------------------


@pytest.mark.slow
def test_empty_database_says_what_is_missing(clean_pg, tmp_path: Path) -> None:
    files = write_reports(clean_pg, tmp_path, "en", keep=3, csv_delimiter=";")
    assert [p.suffix for p in files] == [".html"], "no lists without marts"
    page = open_page(files[0], "report_empty")
    assert_page_clean(page)
    assert page.values["charts"] == []
    assert "no data_mart schema" in page.values["text"]
    ru = write_reports(clean_pg, tmp_path / "ru", "ru", keep=3, csv_delimiter=";")
    assert "нет схемы data_mart" in ru[0].read_text(encoding="utf-8")


@pytest.mark.slow
def test_sales_only_then_marts_from_an_older_build(clean_pg, dbt_dir: Path, tmp_path: Path) -> None:
    load_and_build(dbt_dir, tmp_path, sales=True, bank=False)
    files = write_reports(clean_pg, tmp_path / "out", "en", keep=3, csv_delimiter=";")
    assert sorted(p.name.split("_2")[0] for p in files) == [
        "segmart_report",
        "segments_onec",
        "segments_onec",
        "segments_uci",
        "segments_uci",
    ]
    page = open_page(html_of(files), "report_sales_only")
    assert_page_clean(page)
    assert "Not in this report, no data yet: Bank: product usage" in page.values["text"]  # no empty section
    assert "No bank data" not in page.values["text"]
    assert len(page.values["charts"]) == 2 * 11
    quarantined = scalar(clean_pg, "select count(*) from staging.load_quarantine")
    assert quarantined == 1
    assert "Rows quarantined at load: 1, from 1 file(s)" in page.values["text"]
    assert "no new file landed" not in page.values["text"]
    # a source whose last file is ten days old is called stale
    with clean_pg.cursor() as cur:
        cur.execute(
            "update staging.load_batches set loaded_at = loaded_at - interval '10 days' where source_format = 'onec'"
        )
    clean_pg.commit()
    stale = html_of(write_reports(clean_pg, tmp_path / "stale", "en", keep=3, csv_delimiter=";"))
    assert "onec: no new file landed for 10 days" in stale.read_text(encoding="utf-8")
    # an older build: a mart without a column the report needs, another missing
    with clean_pg.cursor() as cur:
        cur.execute("alter table data_mart.cohort_retention drop column retention_rate")
        cur.execute("drop table data_mart.abc_products")
    clean_pg.commit()
    older = write_reports(clean_pg, tmp_path / "older", "en", keep=3, csv_delimiter=";")
    page = open_page(html_of(older), "report_older_marts")
    assert_page_clean(page)
    assert "data_mart.cohort_retention (retention_rate) is missing" in page.values["text"]
    assert "data_mart.abc_products is missing" in page.values["text"]


@pytest.mark.slow
def test_bank_only(clean_pg, dbt_dir: Path, tmp_path: Path) -> None:
    load_and_build(dbt_dir, tmp_path, sales=False, bank=True)
    files = write_reports(clean_pg, tmp_path / "out", "ru", keep=3, csv_delimiter=";")
    assert sorted(p.suffix for p in files) == [".csv", ".html", ".xlsx"]
    page = open_page(html_of(files), "report_bank_only")
    assert_page_clean(page)
    assert "Нет данных о продажах" in page.values["text"]
    assert len(page.values["charts"]) == 3


@pytest.mark.slow
def test_report_command_reads_options_and_environment(clean_pg, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "cli"
    monkeypatch.setenv("SEGMART_REPORT_DIR", str(out))
    result = run_cli("report", "--lang", "ru", "--keep", "2")
    html = html_of(list(out.iterdir()))
    assert "Отчёт по сегментам клиентов" in html.read_text(encoding="utf-8"), result.stderr
    monkeypatch.setenv("SEGMART_REPORT_LANG", "de")
    bad = run_cli("report", check=False)
    assert bad.returncode == 2 and "SEGMART_REPORT_LANG" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_build_writes_the_report_unless_told_not_to(clean_pg, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "share"
    monkeypatch.setenv("SEGMART_REPORT_DIR", str(out))
    skipped = run_cli("build", "--sample", "--no-report")
    assert not out.exists(), skipped.stderr[-2000:]
    built = run_cli("build", "--sample", "--lang", "ru")
    # the demo's files stay in a folder of their own, so none passes for the user's newest report
    assert [p.name for p in out.iterdir()] == ["demo"]
    html = html_of(list((out / "demo").iterdir()))
    assert "manager report: " + str(html) in built.stderr
    assert "Отчёт по сегментам клиентов" in html.read_text(encoding="utf-8")
    assert sorted(p.suffix for p in (out / "demo").iterdir()) == [".csv"] * 3 + [".html"] + [".xlsx"] * 3
