"""Customer lists as CSV for mail-merge tools: UTF-8 with a BOM.

With the `;` delimiter (what Russian Excel expects) decimals get a comma, with
`,` a point, so a spreadsheet in either convention reads numbers as numbers.
Dates are ISO (YYYY-MM-DD); numbers have no thousands separators.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from segmart.report.lists import CustomerList

DELIMITERS = (";", ",")


def _cell(value: object, kind: str, decimal_mark: str) -> str:
    if value is None:
        return ""
    if kind in ("money", "decimal"):
        text = f"{Decimal(value):.2f}"
        return text.replace(".", decimal_mark)
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, listing: CustomerList, *, delimiter: str) -> int:
    if delimiter not in DELIMITERS:
        raise ValueError(f"CSV delimiter must be one of {' '.join(DELIMITERS)}, not {delimiter!r}")
    decimal_mark = "," if delimiter == ";" else "."
    titles = dict(listing.sheets)
    kinds = [c.kind for c in listing.columns]
    total = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        first = [listing.sheet_column] if listing.sheet_column else []
        writer.writerow(first + [c.header for c in listing.columns])
        for key, values in listing.rows():
            lead = [titles[key]] if listing.sheet_column else []
            writer.writerow(lead + [_cell(v, kinds[i], decimal_mark) for i, v in enumerate(values)])
            total += 1
    return total
