"""XLSX exports against a real PostgreSQL: the same rows and marts as the CSV export, the header
below a report title, a bad cell quarantined with its reason, an .xls refused with advice.

The workbooks are written here (openpyxl) from the generator's 1C CSV, with typed cells as
1C writes them; the expected rows are what the CSV export lands.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import psycopg2.extensions
import pytest

from loaders.formats import SALES_FORMATS, integer
from loaders.load import load_files
from loaders.xlsx import cell_text
from pytests.support.db import LINEAGE_COLUMNS, mart_checksums, reset_database, rows
from pytests.support.files import onec_csv_to_xlsx, onec_rows
from pytests.support.ops import Folders, segmart
from pytests.support.runs import SALES_MARTS_BUILD, run_cli, run_dbt
from segmart.generate import generate_sales

ONEC_DATA = (
    "date, sale_id, order_date, order_id, buyer, contractor, site_id, product, feature, quantity, sum, "
    "address, cash_flow_type"
)


@pytest.fixture(scope="module")
def onec_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "realizaciya.csv"
    generate_sales(path, fmt="onec", rows=3_000, customers=150, days=60, seed=19)
    return path


@pytest.fixture(scope="module")
def onec_xlsx(onec_csv: Path) -> Path:
    """The same export as a 1C XLSX report (title and a blank row above the header)."""
    path = onec_csv.with_suffix(".xlsx")
    onec_csv_to_xlsx(onec_csv, path)
    return path


def _landed(pg: psycopg2.extensions.connection) -> list[tuple]:
    return rows(pg, f"select line_number, {ONEC_DATA} from staging.sales_onec_lines order by line_number")


def test_xlsx_below_a_report_title_lands_the_same_rows_as_the_csv(
    clean_pg: psycopg2.extensions.connection, onec_csv: Path, tmp_path: Path
) -> None:
    (csv_result,) = load_files(clean_pg, [onec_csv], SALES_FORMATS)
    from_csv = _landed(clean_pg)
    reset_database(clean_pg)
    workbook = tmp_path / "realizaciya.xlsx"
    header_row = onec_csv_to_xlsx(onec_csv, workbook)
    assert header_row > 1
    (xlsx_result,) = load_files(clean_pg, [workbook], SALES_FORMATS)
    from_xlsx = _landed(clean_pg)

    assert xlsx_result.status == "loaded", xlsx_result.error
    assert xlsx_result.fmt == "onec" and xlsx_result.load_path == "checked"
    _, data = onec_rows(onec_csv)
    assert xlsx_result.rows_read == xlsx_result.rows_loaded == csv_result.rows_loaded == len(data)
    assert xlsx_result.rows_quarantined == 0
    # the same values; each row on its sheet row (the CSV's data start on line 2)
    assert [(line - header_row + 1, *rest) for line, *rest in from_xlsx] == from_csv
    assert rows(clean_pg, "select encoding, file_name from staging.load_batches") == [("xlsx", "realizaciya.xlsx")]


def test_cells_become_the_text_the_converters_read() -> None:
    # a whole float (how Excel may store any number) must still read as an integer
    assert [cell_text(v) for v in (6.0, -1.0, 2.55, 1e-05, 17850, None, True)] == [
        "6",
        "-1",
        "2.55",
        "1e-05",
        "17850",
        "",
        "TRUE",
    ]
    # a time kept as a fraction of a day comes back a microsecond short of the second
    assert cell_text(datetime(2023, 1, 5, 10, 14, 59, 999_999)) == "2023-01-05 10:15:00"
    assert integer(cell_text(6.0)) == "6"


def test_uci_xlsx_lands_typed_numbers_and_dates(clean_pg: psycopg2.extensions.connection, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    )
    sheet.append(
        ["536365", "85123A", "WHITE HANGING HEART", 6.0, datetime(2010, 12, 1, 8, 26), 2.55, 17850.0, "United Kingdom"]
    )
    sheet.append([])
    sheet.append(["C536379", "D", "Discount", -1, datetime(2010, 12, 1, 9, 41), 27.5, 14527, "United Kingdom"])
    path = tmp_path / "uci.xlsx"
    book.save(path)

    (result,) = load_files(clean_pg, [path], SALES_FORMATS)

    assert (result.status, result.fmt, result.rows_loaded, result.blank_lines) == ("loaded", "uci", 2, 1)
    landed = rows(
        clean_pg,
        "select line_number, invoice_no, quantity, invoice_date::text, unit_price::text, customer_id::text "
        "from staging.sales_uci_lines order by line_number",
    )
    assert landed == [
        (2, "536365", 6, "2010-12-01 08:26:00", "2.55", "17850"),
        (4, "C536379", -1, "2010-12-01 09:41:00", "27.5", "14527"),
    ]


def test_bad_cells_are_quarantined_with_the_field_and_the_sheet_row(
    clean_pg: psycopg2.extensions.connection, onec_csv: Path, tmp_path: Path
) -> None:
    workbook = tmp_path / "bad.xlsx"
    header_row = onec_csv_to_xlsx(onec_csv, workbook)
    book = openpyxl.load_workbook(workbook)
    sheet = book.active
    header = [cell.value for cell in sheet[header_row]]
    quantity_col = header.index("quantity") + 1
    date_col = header.index("date") + 1
    sheet.cell(row=header_row + 2, column=quantity_col, value="много")
    sheet.cell(row=header_row + 5, column=date_col, value="32.13.2023")
    sheet.cell(row=header_row + 7, column=len(header) + 2, value="лишнее")
    book.save(workbook)

    (result,) = load_files(clean_pg, [workbook], SALES_FORMATS)

    _, data = onec_rows(onec_csv)
    assert result.status == "loaded"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (len(data), len(data) - 3, 3)
    quarantined = rows(clean_pg, "select line_number, reason, raw_line from staging.load_quarantine order by 1")
    assert [(line, reason.split(":")[0]) for line, reason, _ in quarantined] == [
        (header_row + 2, "quantity"),
        (header_row + 5, "date"),
        (header_row + 7, "field count"),
    ]
    assert "много" in quarantined[0][2] and "not a number" in quarantined[0][1]
    assert "impossible date" in quarantined[1][1] or "not a date" in quarantined[1][1]


def test_xls_is_refused_with_the_advice_to_save_as_xlsx_or_csv(
    clean_pg: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    old = tmp_path / "report.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))

    result = run_cli("sales", str(old), check=False)

    assert result.returncode == 1
    assert "report.xls" in result.stderr and ".xlsx" in result.stderr and ".csv" in result.stderr
    assert rows(clean_pg, "select count(*) from staging.load_batches") == [(0,)]
    assert rows(clean_pg, "select file_name from staging.load_failures") == [("report.xls",)]


def test_inbox_lands_xlsx_and_rejects_xls(
    clean_pg: psycopg2.extensions.connection, onec_csv: Path, tmp_path: Path
) -> None:
    folders = Folders(tmp_path)
    (folders.inbox / "sales").mkdir(parents=True)
    onec_csv_to_xlsx(onec_csv, folders.inbox / "sales" / "realizaciya.xlsx")
    (folders.inbox / "sales" / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))

    result = segmart(folders, "land")

    assert result.returncode == 1, result.stderr  # partial: one file refused
    assert list(folders.archive.rglob("realizaciya.xlsx"))
    reason = folders.rejected / "sales" / "old.xls.reason.txt"
    assert ".xlsx" in reason.read_text(encoding="utf-8")
    _, data = onec_rows(onec_csv)
    assert rows(clean_pg, "select sum(rows_loaded)::int from staging.load_batches") == [(len(data),)]


@pytest.mark.slow
def test_the_same_data_as_csv_and_as_xlsx_gives_the_same_marts(
    clean_pg: psycopg2.extensions.connection, onec_csv: Path, tmp_path: Path, dbt_dir: Path
) -> None:
    def marts_of(path: Path) -> dict[str, str]:
        reset_database(clean_pg)
        run_cli("sales", str(path))
        run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
        return mart_checksums(clean_pg, ignore_columns=LINEAGE_COLUMNS)

    workbook = tmp_path / "realizaciya.xlsx"
    onec_csv_to_xlsx(onec_csv, workbook)
    from_csv = marts_of(onec_csv)
    from_xlsx = marts_of(workbook)

    assert "sales_lines" in from_csv and not from_csv["sales_lines"].startswith("0:")
    assert from_xlsx == from_csv


def test_a_workbook_is_recognised_by_its_content_whatever_its_name(
    clean_pg: psycopg2.extensions.connection, onec_csv: Path, onec_xlsx: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "realizaciya_export.csv"
    renamed.write_bytes(onec_xlsx.read_bytes())

    (result,) = load_files(clean_pg, [renamed], SALES_FORMATS)

    _, data = onec_rows(onec_csv)
    assert (result.status, result.fmt, result.rows_loaded) == ("loaded", "onec", len(data))


def test_a_sheet_damaged_part_way_fails_the_whole_file(
    clean_pg: psycopg2.extensions.connection, onec_xlsx: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(onec_xlsx) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]  # the sheet's XML stops in the middle
            target.writestr(item, content)

    (result,) = load_files(clean_pg, [damaged], SALES_FORMATS)

    # openpyxl reads the whole sheet's XML once when it opens a workbook (for its size), so
    # the damage is found before any row is read
    assert result.status == "failed" and str(damaged) in result.error
    assert "cannot be read as an XLSX workbook" in result.error and "ParseError" in result.error
    assert rows(clean_pg, "select file_name from staging.load_failures") == [("damaged.xlsx",)]
    assert rows(clean_pg, "select count(*) from staging.load_batches") == [(0,)]
