"""The customer lists managers act on, described once for both XLSX and CSV.

A list is a sequence of sheets (one per RFM segment, or one sheet of bank
clients) with typed columns; its rows are streamed from the database, sheet by
sheet, so a list of any length is written in constant memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import psycopg2.extensions

from segmart.report import data
from segmart.report.i18n import Lang

# 1C identifies a customer by the buyer's name (models/_shared__docs.md), so its id column is a name
BUYER_NAME_SOURCES = frozenset({"onec"})


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # text, int, money, decimal, date
    width: int = 14


@dataclass
class CustomerList:
    stem: str  # file name without the extension
    currency: str
    sheets: list[tuple[str, str]]  # (key, title in the report's language)
    columns: list[Column]
    rows: Callable[[], Iterator[tuple[str, list]]]  # a fresh stream of (sheet key, values)
    sheet_column: str | None  # header of the CSV column naming the sheet (None: one sheet, no column)


def sheet_title(name: str, used: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")[:31] or "_"
    title, n = clean, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def segment_list(
    conn: psycopg2.extensions.connection,
    catalog: data.Catalog,
    lang: Lang,
    source: data.SalesSource,
    segments: list[data.Row],
    run_date: dt.date,
) -> CustomerList:
    """customer_rfm of one source, one sheet per RFM segment (every segment, empty ones too)."""
    as_of = source.as_of_date
    previous = data.previous_history_date(conn, catalog, source.source_system, as_of)
    names = {s["rfm_segment"]: lang.field(s, "segment_name") for s in segments}
    actions = {s["rfm_segment"]: lang.field(s, "recommended_action") for s in segments}
    used: set[str] = set()
    sheets = [(s["rfm_segment"], sheet_title(names[s["rfm_segment"]], used)) for s in segments]
    id_header = lang.t("col_buyer") if source.source_system in BUYER_NAME_SOURCES else lang.t("col_customer_id")
    columns = [
        Column(id_header, "text", 28 if source.source_system in BUYER_NAME_SOURCES else 14),
        Column(lang.t("col_recency"), "int", 12),
        Column(lang.t("col_frequency"), "int", 10),
        Column(lang.t("col_monetary"), "money", 16),
        Column(lang.t("col_r"), "int", 8),
        Column(lang.t("col_f"), "int", 8),
        Column(lang.t("col_m"), "int", 8),
        Column(lang.t("col_rfm"), "text", 8),
        Column(lang.t("col_first_purchase"), "date", 13),
        Column(lang.t("col_last_purchase"), "date", 13),
        Column(lang.t("col_action"), "text", 50),
        Column(lang.t("col_prev_segment", date=lang.date(previous) if previous else "–"), "text", 22),
        Column(lang.t("col_probability_alive"), "decimal", 12),
        Column(lang.t("col_expected_purchases"), "decimal", 14),
        Column(lang.t("col_clv"), "money", 16),
    ]
    clv = "customer_clv" in catalog.columns

    def rows() -> Iterator[tuple[str, list]]:
        for seg, *values, prev, alive, purchases, value in data.stream_customers(
            conn, source.source_system, previous, clv=clv
        ):
            # values: customer_id, recency, frequency, monetary, r, f, m, rfm_score, first, last purchase
            yield seg, [*values, actions[seg], names.get(prev) if prev else None, alive, purchases, value]

    return CustomerList(
        stem=f"segments_{source.source_system}_{run_date.isoformat()}",
        currency=source.currency_code,
        sheets=sheets,
        columns=columns,
        rows=rows,
        sheet_column=lang.t("col_segment"),
    )


def cross_sell_list(conn: psycopg2.extensions.connection, lang: Lang, run_date: dt.date) -> CustomerList:
    """Every bank client with segment, product count, suggested product, why, and the segment's action."""
    columns = [
        Column(lang.t("col_client_id"), "int", 12),
        Column(lang.t("col_client_name"), "text", 32),
        Column(lang.t("col_segment"), "text", 16),
        Column(lang.t("col_products_used"), "int", 12),
        Column(lang.t("col_suggested"), "text", 24),
        Column(lang.t("col_reason"), "text", 50),
        Column(lang.t("col_bank_action"), "text", 60),
    ]
    ru = lang.code == "ru"

    def rows() -> Iterator[tuple[str, list]]:
        for (
            client_id,
            client_name,
            segment_en,
            segment_ru,
            usage_count,
            product_en,
            product_ru,
            reason_code,
            share,
            reference_en,
            reference_ru,
            action_en,
            action_ru,
        ) in data.stream_cross_sell(conn):
            reason = (
                lang.t(
                    f"reason_{reason_code}",
                    share=lang.percent(share) if share is not None else "–",
                    segment=reference_ru if ru else reference_en,
                )
                if reason_code
                else None
            )
            yield (
                "clients",
                [
                    client_id,
                    client_name,
                    segment_ru if ru else segment_en,
                    usage_count,
                    product_ru if ru else product_en,
                    reason,
                    action_ru if ru else action_en,
                ],
            )

    return CustomerList(
        stem=f"cross_sell_{run_date.isoformat()}",
        currency="RUB",
        sheets=[("clients", lang.t("sheet_clients"))],
        columns=columns,
        rows=rows,
        sheet_column=None,
    )


def plain_number(value: Decimal | float | int) -> float | int:
    return value if isinstance(value, int) else float(value)
