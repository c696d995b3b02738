"""Helpers several test modules share: mart checksums and file surgery on UCI exports."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from psycopg2 import sql

from pytests.conftest import rows, scalar


def mart_checksums(pg, names: Iterable[str] | None = None) -> dict[str, str]:
    """Row count and an order-independent checksum of data_mart relations (all by default)."""
    if names is None:
        names = [
            n for (n,) in rows(pg, "select table_name from information_schema.tables where table_schema = 'data_mart'")
        ]
    out = {}
    for name in names:
        query = sql.SQL(
            "select count(*)::text || ':' || coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') "
            "from data_mart.{} as t"
        ).format(sql.Identifier(name))
        out[name] = scalar(pg, query.as_string(pg))
    return out


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
