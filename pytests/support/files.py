"""Data files of the tests: the real UCI file, and surgery on UCI exports."""

from __future__ import annotations

import csv
import gzip
import io
import os
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
