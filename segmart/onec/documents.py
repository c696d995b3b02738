"""1C documents as the lines of the 1C CSV export (``loaders.formats.ONEC``), written to a spool file.

A posted sale (``Document_РеализацияТоваровУслуг``) gives one line per row of
its goods («Товары»), ``продажа``; a posted customer return
(``Document_ВозвратТоваровОтКлиента``) the same with ``возврат`` and the
quantities and amounts as 1C keeps them (positive), exactly as the CSV export
writes a return: the models sign them. A document that is not posted or is
marked for deletion gives no lines but a withdrawal, so that its earlier lines
leave the marts. Names come from the catalogs, read once per pull.

The field names follow 1C:ERP 2.x / 1C:УТ 11 as documented for the standard
OData interface; they are not verified against a live base here.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from loaders.formats import ONEC
from segmart.onec.client import ODataClient, OnecError

log = logging.getLogger("segmart")

SALES = "Document_РеализацияТоваровУслуг"
RETURNS = "Document_ВозвратТоваровОтКлиента"
ORDERS = "Document_ЗаказКлиента"
GOODS = "Товары"
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE_PREFIX = "0001-01-01"
# customer orders are read this far before the first document date (an order precedes its sale)
ORDER_LOOKBACK_DAYS = 92


@dataclass(frozen=True)
class Catalog:
    entity: str
    field: str  # the catalog attribute that becomes the text


# what each reference of a document or of its goods rows is looked up in
CATALOGS = {
    "Номенклатура_Key": Catalog("Catalog_Номенклатура", "Description"),
    "Характеристика_Key": Catalog("Catalog_ХарактеристикиНоменклатуры", "Description"),
    "Партнер_Key": Catalog("Catalog_Партнеры", "Description"),
    "Контрагент_Key": Catalog("Catalog_Контрагенты", "Description"),
    "Склад_Key": Catalog("Catalog_Склады", "Code"),
}
DOCUMENT_FIELDS = ("Ref_Key", "Number", "Date", "Posted", "DeletionMark", GOODS)
GOODS_FIELDS = ("LineNumber", "Номенклатура_Key", "Количество")
KINDS = ((SALES, "продажа"), (RETURNS, "возврат"))


@dataclass
class SpoolStats:
    documents: int = 0
    lines: int = 0
    withdrawn: list[tuple[str, str, str]] = field(default_factory=list)  # (number, Ref_Key, reason)
    newest_document_at: datetime | None = None
    repeated: int = 0  # documents met twice in one pull (paging over changing data): the first is kept
    unknown_refs: dict[str, int] = field(default_factory=dict)


def odata_datetime(day: date) -> str:
    return f"datetime'{day.isoformat()}T00:00:00'"


def _timestamp(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise OnecError(f"unexpected answer: {where} is {value!r}, not a date")
    if value.startswith(EMPTY_DATE_PREFIX) or not value:
        return ""
    return value.replace("T", " ")


def _require(entry: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    missing = [name for name in names if name not in entry]
    if missing:
        present = ", ".join(list(entry)[:12])
        raise OnecError(
            f"unexpected answer: {where} has no {', '.join(missing)} (it has: {present}); "
            "the configuration may name it differently"
        )


class Lookups:
    """The catalogs' texts by Ref_Key, and the customer orders' numbers and dates, read once per pull."""

    def __init__(self, client: ODataClient, order_since: date | None) -> None:
        self.texts: dict[str, dict[str, str]] = {}
        for key, catalog in CATALOGS.items():
            table: dict[str, str] = {}
            for page in client.pages(catalog.entity, select=f"Ref_Key,{catalog.field}"):
                for entry in page:
                    _require(entry, ("Ref_Key", catalog.field), catalog.entity)
                    table[entry["Ref_Key"]] = str(entry[catalog.field] or "").strip()
            self.texts[key] = table
            log.info("1C %s: %d entries", catalog.entity, len(table))
        self.orders: dict[str, tuple[str, str]] = {}
        where = f"Date ge {odata_datetime(order_since)}" if order_since else None
        for page in client.pages(ORDERS, where=where, select="Ref_Key,Number,Date"):
            for entry in page:
                _require(entry, ("Ref_Key", "Number", "Date"), ORDERS)
                self.orders[entry["Ref_Key"]] = (str(entry["Number"]).strip(), _timestamp(entry["Date"], ORDERS))

    def text(self, key: str, entry: dict[str, Any], stats: SpoolStats) -> str:
        ref = entry.get(key)
        if not ref or ref == EMPTY_REF:
            return ""
        found = self.texts[key].get(ref)
        if found is None:  # an empty text: the loader quarantines the line if the field is required
            stats.unknown_refs[key] = stats.unknown_refs.get(key, 0) + 1
            return ""
        return found


def _number(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise OnecError(f"unexpected answer: {where} is {value!r}, not a number")
    return str(value)


def _line_number(row: dict[str, Any]) -> int:
    try:
        return int(row.get("LineNumber") or 0)  # Edm.Int64: 1C writes it as a JSON string
    except (TypeError, ValueError):
        raise OnecError(f"unexpected answer: a goods row has LineNumber {row.get('LineNumber')!r}") from None


def _lines(
    document: dict[str, Any], cash_flow: str, lookups: Lookups, stats: SpoolStats, where: str
) -> Iterator[list[str]]:
    order = lookups.orders.get(document.get("ЗаказКлиента_Key") or "", ("", ""))
    head = {
        "date": _timestamp(document["Date"], f"{where} Date"),
        "sale_id": str(document["Number"]).strip(),
        "order_date": order[1],
        "order_id": order[0],
        "buyer": lookups.text("Партнер_Key", document, stats),
        "contractor": lookups.text("Контрагент_Key", document, stats),
        "site_id": lookups.text("Склад_Key", document, stats),
        "address": str(document.get("АдресДоставки") or ""),
        "cash_flow_type": cash_flow,
    }
    goods = document[GOODS]
    if not isinstance(goods, list):
        raise OnecError(f"unexpected answer: {where} {GOODS} is not a list of rows")
    for row in sorted(goods, key=_line_number):
        _require(row, GOODS_FIELDS, f"{where} {GOODS} row")
        amount = row.get("СуммаСНДС", row.get("Сумма"))
        values = {
            **head,
            "product": lookups.text("Номенклатура_Key", row, stats),
            "feature": lookups.text("Характеристика_Key", row, stats),
            "quantity": _number(row["Количество"], f"{where} {GOODS} Количество"),
            "sum": _number(amount, f"{where} {GOODS} СуммаСНДС/Сумма"),
        }
        yield [values[f.column] for f in ONEC.fields]


def spool(client: ODataClient, since: date | None, path: Path) -> SpoolStats:
    """Read every sale and return dated ``since`` or later into ``path`` (the 1C CSV layout, UTF-8, ';').

    Everything is read before anything lands: a failure leaves only the spool behind.
    """
    lookups = Lookups(client, since - timedelta(days=ORDER_LOOKBACK_DAYS) if since else None)
    stats = SpoolStats()
    seen: set[str] = set()
    where = f"Date ge {odata_datetime(since)}" if since else None
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow([f.header for f in ONEC.fields])
        for entity, cash_flow in KINDS:
            for page in client.pages(entity, where=where, order="Date"):
                for document in page:
                    _require(document, DOCUMENT_FIELDS, entity)
                    ref = str(document["Ref_Key"])
                    if ref in seen:
                        stats.repeated += 1
                        continue
                    seen.add(ref)
                    stats.documents += 1
                    at = _timestamp(document["Date"], f"{entity} Date")
                    if at:
                        moment = datetime.fromisoformat(at)
                        if stats.newest_document_at is None or moment > stats.newest_document_at:
                            stats.newest_document_at = moment
                    number = str(document["Number"]).strip()
                    if document["DeletionMark"] is True or document["Posted"] is not True:
                        reason = "marked_for_deletion" if document["DeletionMark"] is True else "unposted"
                        stats.withdrawn.append((number, ref, reason))
                        continue
                    for line in _lines(document, cash_flow, lookups, stats, f"{entity} {number}"):
                        writer.writerow(line)
                        stats.lines += 1
    for key, count in stats.unknown_refs.items():
        log.warning("1C: %d reference(s) %s not found in %s (left empty)", count, key, CATALOGS[key].entity)
    if stats.repeated:
        log.info("1C: %d document(s) came twice while paging (documents changed meanwhile); kept once", stats.repeated)
    return stats
