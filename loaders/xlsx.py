"""XLSX exports: the header row found below a report title, then records as the CSV reader gives them.

openpyxl's read-only mode streams the sheet XML, so memory stays flat in the
file size. Each cell becomes the text the format's converters read (a date
cell as ISO date/time, a whole number without ``.0``), and a record's line
number is its row number in the sheet, so a quarantined row can be found in
Excel. From there on an XLSX file goes through the same checks, quarantine and
counts as a CSV file (the checked path: COPY cannot read a workbook).
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from loaders.formats import Format, describe_expected, normalise_header
from loaders.reader import FileProblem, Layout, Record

HEADER_SEARCH_ROWS = 50
XLSX_ENCODING = "xlsx"  # recorded in load_batches.encoding for a workbook
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other OLE2 files
# what reading a damaged sheet raises part way: cut zip data, bad XML (xml.etree and lxml
# parse errors are SyntaxErrors), a bad cell value
DAMAGED_WORKBOOK = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError, ValueError, OSError)


def old_excel_problem(path: Path) -> FileProblem:
    return FileProblem(
        path,
        None,
        "an Excel 97-2003 workbook (.xls) cannot be read: open it in Excel (or save the report in 1C) "
        "as .xlsx (Excel workbook) or .csv and load that file instead",
    )


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV export would hold (converters accept both)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        # Excel keeps a time as a fraction of a day: a whole second may come back
        # a microsecond short. 1C writes whole seconds.
        rounded = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        return rounded.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """The workbook read-only (openpyxl is untyped); its file is closed on the way out."""
    import openpyxl  # only loads pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    # a file object, not the path: openpyxl refuses a workbook by its name's suffix (a .csv)
    with path.open("rb") as handle:
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, *DAMAGED_WORKBOOK) as exc:
            raise FileProblem(path, None, f"cannot be read as an XLSX workbook ({type(exc).__name__}: {exc})") from None
        try:
            yield book
        finally:
            book.close()


def _trimmed(values: tuple[Any, ...]) -> list[str]:
    texts = [cell_text(v) for v in values]
    while texts and not texts[-1].strip():
        texts.pop()
    return texts


def _match(texts: list[str], candidates: list[Format]) -> tuple[Format, list[int | None]] | None:
    names = [normalise_header(text) for text in texts]
    present = [name for name in names if name]
    if len(set(present)) != len(present):
        return None
    for fmt in candidates:
        positions = fmt.locate(names)
        if positions is not None:
            return fmt, positions
    return None


def detect_layout(path: Path, formats: tuple[Format, ...], *, forced_format: Format | None = None) -> Layout:
    """The first sheet with a known header in its first HEADER_SEARCH_ROWS rows."""
    candidates = [forced_format] if forced_format else list(formats)
    with _workbook(path) as book:
        try:
            for sheet in book.worksheets:
                for row_number, values in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), 1):
                    texts = _trimmed(values)
                    found = _match(texts, candidates)
                    if found is not None:
                        fmt, positions = found
                        return Layout(
                            fmt,
                            XLSX_ENCODING,
                            "",
                            texts,
                            positions,
                            kind="xlsx",
                            header_line=row_number,
                            sheet=sheet.title,
                        )
        except DAMAGED_WORKBOOK as exc:
            raise FileProblem(path, None, f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    raise FileProblem(
        path,
        None,
        f"no sheet has a known header row in its first {HEADER_SEARCH_ROWS} rows. Expected one of — "
        + describe_expected(tuple(candidates)),
    )


def _raw(texts: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="").writerow(texts)
    return out.getvalue()


def records(path: Path, layout: Layout) -> Iterator[Record]:
    """Every row below the header; an empty row comes out with no fields (a blank line)."""
    width = len(layout.header)
    with _workbook(path) as book:
        sheet = book[layout.sheet] if layout.sheet else book.worksheets[0]
        row_number = layout.header_line
        rows = sheet.iter_rows(min_row=row_number + 1, values_only=True)
        while True:
            try:
                values = next(rows, None)
            except DAMAGED_WORKBOOK as exc:
                problem = f"the workbook is damaged after row {row_number:,} ({type(exc).__name__}: {exc})"
                raise FileProblem(path, row_number + 1, problem) from None
            if values is None:
                return
            row_number += 1
            texts = _trimmed(values)
            if not any(text.strip() for text in texts):
                yield Record(row_number, [], "")
                continue
            fields = texts + [""] * (width - len(texts))  # trailing empty cells are empty fields
            yield Record(row_number, fields, _raw(texts))
