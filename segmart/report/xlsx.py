"""Customer lists as XLSX: XlsxWriter in constant-memory mode (rows go to disk as written).

One sheet per list sheet, header frozen with filters on, numbers as numbers,
dates as dates and money in the source's currency format.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from segmart.report.i18n import Lang
from segmart.report.lists import CustomerList, plain_number


def write_xlsx(path: Path, listing: CustomerList, lang: Lang) -> int:
    """Write the list to `path`; returns the number of data rows written."""
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    try:
        header = book.add_format({"bold": True, "bg_color": "#DCE6F0", "bottom": 1, "text_wrap": True, "valign": "top"})
        formats = {
            "int": book.add_format({"num_format": "#,##0"}),
            "decimal": book.add_format({"num_format": "#,##0.00"}),
            "money": book.add_format({"num_format": lang.excel_money_format(listing.currency)}),
            "date": book.add_format({"num_format": lang.excel_date_format}),
            "text": None,
        }
        sheets = {}
        for key, title in listing.sheets:
            sheet = book.add_worksheet(title)
            for c, column in enumerate(listing.columns):
                sheet.set_column(c, c, column.width)
                sheet.write_string(0, c, column.header, header)
            sheet.freeze_panes(1, 0)
            sheets[key] = [sheet, 0]
        kinds = [column.kind for column in listing.columns]
        total = 0
        for key, values in listing.rows():
            entry = sheets[key]
            sheet, row = entry[0], entry[1] + 1
            entry[1] = row
            for c, value in enumerate(values):
                if value is None:
                    continue
                kind = kinds[c]
                if kind == "text":
                    sheet.write_string(row, c, str(value))
                elif kind == "date":
                    sheet.write_datetime(row, c, value, formats["date"])
                else:
                    sheet.write_number(row, c, plain_number(value), formats[kind])
            total += 1
        last_column = len(listing.columns) - 1
        for sheet, rows in sheets.values():
            sheet.autofilter(0, 0, max(rows, 1), last_column)
    finally:
        book.close()
    return total
