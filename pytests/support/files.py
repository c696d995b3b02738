"""Data files of the tests: the real UCI file, surgery on UCI exports, 1C exports as XLSX."""

from __future__ import annotations

import csv
import gzip
import io
import os
from datetime import datetime
from pathlib import Path

import pytest

from pytests.support import ROOT

REAL_DATA = Path(os.environ.get("SEGMART_REAL_DATA", ROOT.parent / "shared" / "data" / "online_retail.csv.gz"))


def real_data_or_skip() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip(
            f"the UCI Online Retail file is not at {REAL_DATA} (set SEGMART_REAL_DATA to its path to run this test)"
        )
    return REAL_DATA


def split_by_date(source: Path, cut: str, before: Path, after: Path) -> None:
    """Write the lines dated before `cut` (YYYY-MM-DD) to one file and the rest to another."""
    with source.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        at = header.index("InvoiceDate")
        with before.open("w", newline="") as early, after.open("w", newline="") as late:
            writers = csv.writer(early), csv.writer(late)
            for writer in writers:
                writer.writerow(header)
            for row in reader:
                writers[row[at][:10] >= cut].writerow(row)


def correction_of(source: Path, invoices: int, target: Path) -> dict[str, int]:
    """Re-send the first `invoices` sales invoices with every quantity doubled.

    Returns each re-sent invoice's new total quantity.
    """
    chosen: dict[str, int] = {}
    with source.open(newline="") as handle, target.open("w", newline="") as out:
        reader = csv.reader(handle)
        writer = csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        invoice_at, quantity_at = header.index("InvoiceNo"), header.index("Quantity")
        for row in reader:
            invoice = row[invoice_at]
            if invoice.startswith("C") or (invoice not in chosen and len(chosen) >= invoices):
                continue
            row[quantity_at] = str(2 * int(row[quantity_at]))
            chosen[invoice] = chosen.get(invoice, 0) + int(row[quantity_at])
            writer.writerow(row)
    return chosen


def onec_rows(source: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a 1C export as the generator writes it (cp1251, ';')."""
    with source.open(encoding="cp1251", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        return header, list(reader)


def _onec_cell(column: str, text: str) -> object:
    """A 1C CSV field as 1C puts it into an XLSX cell: dates and numbers typed, the rest text."""
    if not text:
        return None
    if column in {"date", "order_date"}:
        return datetime.strptime(text, "%d.%m.%Y %H:%M:%S")
    if column in {"quantity", "sum"}:
        return float(text.replace(" ", "").replace(",", "."))
    if column == "site_id" and text.isdigit():
        return int(text)
    return text


def onec_csv_to_xlsx(source: Path, target: Path, *, title: str | None = "Реализация товаров и услуг") -> int:
    """Write the generator's 1C CSV as an XLSX report: a title and a blank row above the header
    (as 1C writes a report), typed cells. Returns the header's row number."""
    import openpyxl

    header, data = onec_rows(source)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("TDSheet")
    header_row = 1
    if title is not None:
        sheet.append([title])
        sheet.append([])
        header_row = 3
    sheet.append(header)
    for values in data:
        sheet.append([_onec_cell(column, text) for column, text in zip(header, values, strict=True)])
    book.save(target)
    return header_row


def real_head(rows: int, target: Path) -> Path:
    """The real file's header and its first `rows` lines, as a plain CSV (skips when the file is absent).

    The lines are copied byte for byte, so the export is cut as a partial
    re-send would be: the last invoice may lose its later lines.
    """
    source = real_data_or_skip()
    with gzip.open(source, "rb") as packed, io.TextIOWrapper(packed, encoding="utf-8", newline="") as handle:
        with target.open("w", encoding="utf-8", newline="") as out:
            for number, line in enumerate(handle):
                if number > rows:
                    break
                out.write(line)
    return target
