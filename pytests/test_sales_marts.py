"""Sales marts on a small generated UCI file, checked against plain Python.

The file is generated, loaded and built once (``dbt build`` of the sales marts
with their data and unit tests); the checks recompute monthly revenue, cohort
sizes and ABC classes straight from the CSV with the cleaning rules of
``int_sales_lines_classified``, without going through SQL.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg2.extensions

from pytests.conftest import ROOT, rows, run_cli, run_dbt

A_CUTOFF = Decimal("0.80")
B_CUTOFF = Decimal("0.95")


@dataclass(frozen=True)
class Line:
    invoice: str
    product_id: str
    customer_id: str | None
    country: str
    ordered_on: date
    amount: Decimal
    is_return: bool
    is_product: bool


def kept_lines(path: Path) -> list[Line]:
    """The lines the cleaned layer keeps, with the rules of int_sales_lines_classified."""
    with (ROOT / "seeds" / "sales_non_product_codes.csv").open(encoding="utf-8") as f:
        non_product = {row["product_id"].upper() for row in csv.DictReader(f)}
    out = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            invoice = row["InvoiceNo"].strip()
            quantity = int(row["Quantity"])
            amount = quantity * Decimal(row["UnitPrice"])
            is_return = invoice.startswith("C")
            if invoice.startswith("A") or quantity == 0:
                continue
            if (amount <= 0 and not is_return) or (amount >= 0 and is_return):
                continue
            product_id = row["StockCode"].strip().upper()
            customer = row["CustomerID"].strip()
            out.append(
                Line(
                    invoice=invoice,
                    product_id=product_id,
                    customer_id=str(int(float(customer))) if customer else None,
                    country=row["Country"].strip(),
                    ordered_on=datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").date(),
                    amount=amount,
                    is_return=is_return,
                    is_product=product_id not in non_product,
                )
            )
    return out


def month_of(day: date) -> date:
    return day.replace(day=1)


def abc_classes(revenue: dict[str, Decimal]) -> dict[str, str]:
    """Standard Pareto: rank by revenue desc (ties by id); A while the share before the item < A cut-off."""
    total = sum(value for value in revenue.values() if value > 0)
    classes, before = {}, Decimal(0)
    for item, value in sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0])):
        share_before = before / total
        if value <= 0:
            classes[item] = "C"
        elif share_before < A_CUTOFF:
            classes[item] = "A"
        elif share_before < B_CUTOFF:
            classes[item] = "B"
        else:
            classes[item] = "C"
        before += value
    return classes


def test_sales_marts_match_a_python_computation_from_the_csv(
    clean_pg: psycopg2.extensions.connection, dbt_dir: Path, tmp_path: Path
) -> None:
    csv_path = tmp_path / "uci_small.csv"
    run_cli("generate", "sales", "--rows", "20000", "--customers", "800", "--seed", "5", str(csv_path))
    run_cli("sales", str(csv_path))
    run_dbt(
        "build",
        "--select",
        "+path:models/marts/sales +cohort_retention",
        "--indirect-selection",
        "cautious",
        tmp_target=dbt_dir,
    )
    lines = kept_lines(csv_path)

    check_monthly_revenue(lines, clean_pg)
    check_cohort_sizes(lines, clean_pg)
    check_abc_classes(lines, clean_pg)


def check_monthly_revenue(lines: list[Line], pg: psycopg2.extensions.connection) -> None:
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for line in lines:
        expected[month_of(line.ordered_on)] += line.amount
    actual = dict(rows(pg, "select month_start, revenue from data_mart.monthly_kpis where source_system = 'uci'"))
    assert set(actual) >= set(expected)
    assert all(actual[month] == 0 for month in set(actual) - set(expected))  # gap months only
    assert {month: round(actual[month], 2) for month in expected} == {
        month: round(value, 2) for month, value in expected.items()
    }


def check_cohort_sizes(lines: list[Line], pg: psycopg2.extensions.connection) -> None:
    first_order: dict[str, date] = {}
    for line in lines:
        if line.customer_id is not None and not line.is_return:
            seen = first_order.get(line.customer_id)
            first_order[line.customer_id] = line.ordered_on if seen is None else min(seen, line.ordered_on)
    expected: dict[date, int] = defaultdict(int)
    for day in first_order.values():
        expected[month_of(day)] += 1
    actual = dict(
        rows(
            pg,
            "select cohort_month, cohort_size from data_mart.cohort_retention"
            " where source_system = 'uci' and months_since_first_purchase = 0",
        )
    )
    assert actual == expected
    # month 0 retention is 1 wherever the month is observable, NULL in the partial as-of month
    month_zero = rows(
        pg,
        "select is_observable, retention_rate from data_mart.cohort_retention"
        " where source_system = 'uci' and months_since_first_purchase = 0",
    )
    assert all(rate == 1 if observable else rate is None for observable, rate in month_zero)


def check_abc_classes(lines: list[Line], pg: psycopg2.extensions.connection) -> None:
    by_country: dict[str, Decimal] = defaultdict(Decimal)
    by_product: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        by_country[line.country] += line.amount
        if line.is_product:
            by_product[line.product_id] += line.amount

    countries = dict(rows(pg, "select country, abc_class from data_mart.abc_countries where source_system = 'uci'"))
    assert countries == abc_classes(by_country)

    expected_products = abc_classes(by_product)
    top = sorted(by_product, key=lambda item: (-by_product[item], item))[:25]
    actual_top = rows(
        pg,
        "select product_id, abc_class from data_mart.abc_products"
        " where source_system = 'uci' order by revenue_rank limit 25",
    )
    assert actual_top == [(item, expected_products[item]) for item in top]
    counts = dict(
        rows(pg, "select abc_class, count(*) from data_mart.abc_products where source_system = 'uci' group by 1")
    )
    expected_counts: dict[str, int] = defaultdict(int)
    for klass in expected_products.values():
        expected_counts[klass] += 1
    assert counts == expected_counts
