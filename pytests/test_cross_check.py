"""The marts on the real UCI file agree exactly with an independent pandas computation.

The file is loaded and the sales marts built once (``dbt build``, data tests
included); the pandas reference (``pytests/support/reference.py``)
recomputes the same figures from the CSV with the rules documented in the
models' YAML, in exact arithmetic. Every figure must agree: the customer
count, the total revenue to the cent, revenue and orders of every month, every
cohort size and active-customer cell, the ABC class of every country and
product, and recency, frequency and monetary of every customer in
``customer_rfm``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg2.extensions
import pytest

from pytests.support.db import rows, scalar
from pytests.support.files import real_data_or_skip
from pytests.support.reference import Marts, money
from pytests.support.runs import SALES_MARTS_BUILD, land_real_file, run_dbt
from segmart.config import Connection

pytestmark = pytest.mark.slow

STAGED_ROWS = 541_909  # README of the data set
RAW_CUSTOMERS = 4_372
CENT = Decimal("0.01")


@dataclass
class Built:
    pg: psycopg2.extensions.connection
    dbt_dir: Path


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


@pytest.fixture(scope="module")
def marts() -> Marts:
    return Marts(real_data_or_skip())


@pytest.fixture(scope="module")
def built(connection_info: Connection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    pg = land_real_file(connection_info)
    dbt_dir = tmp_path_factory.mktemp("cross-check")
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
    yield Built(pg, dbt_dir)
    pg.close()


def test_readme_facts(built: Built, marts: Marts) -> None:
    pg = built.pg
    assert scalar(pg, "select count(*) from staging.sales_uci_lines") == STAGED_ROWS
    assert rows(pg, "select distinct source_staged_rows from data_mart.sales_line_audit") == [(STAGED_ROWS,)]
    assert marts.agg.raw_rows == STAGED_ROWS
    assert scalar(pg, "select count(distinct customer_id) from staging.sales_uci_lines") == RAW_CUSTOMERS
    assert len(marts.agg.raw_customers) == RAW_CUSTOMERS
    # the cleaning rules exclude the same lines for the same reasons
    audit = dict(rows(pg, "select line_status, line_count from data_mart.sales_line_audit"))
    expected = {reason: count for reason, count in marts.agg.excluded.items() if count}
    assert audit == {"kept": marts.agg.kept_lines, **expected}
    # a document names one customer (or none): document- and line-level customer figures coincide
    assert marts.facts()["documents_with_several_customers"] == 0


def test_customer_count_and_total_revenue(built: Built, marts: Marts) -> None:
    pg = built.pg
    customers = marts.customer_count()
    assert customers == 4_338
    assert scalar(pg, "select sum(new_customers) from data_mart.monthly_kpis") == customers
    assert (
        scalar(pg, "select sum(cohort_size) from data_mart.cohort_retention where months_since_first_purchase = 0")
        == customers
    )
    assert scalar(pg, "select count(distinct customer_id) from data_mart.sales_lines where not is_return") == customers

    revenue = cents(marts.total_revenue())
    assert revenue == Decimal("9758809.99")
    for query in (
        "select sum(revenue) from data_mart.monthly_kpis",
        "select net_amount from data_mart.sales_line_audit where line_status = 'kept'",
        "select sum(revenue) from data_mart.abc_countries",
        "select sum(net_amount) from data_mart.sales_lines",
    ):
        assert cents(scalar(pg, query)) == revenue, query


def test_monthly_revenue_and_orders(built: Built, marts: Marts) -> None:
    expected = {row.month_start: (cents(money(row.revenue)), int(row.orders)) for row in marts.monthly().itertuples()}
    actual = {
        month: (cents(revenue), orders)
        for month, revenue, orders in rows(
            built.pg, "select month_start, revenue, orders from data_mart.monthly_kpis where source_system = 'uci'"
        )
    }
    assert len(expected) == 13
    assert actual == expected


def test_every_cohort_cell(built: Built, marts: Marts) -> None:
    expected = {
        (row.cohort_month, row.months_since_first_purchase): (
            row.month_start,
            row.is_observable,
            row.cohort_size,
            None if pd.isna(row.active_customers) else int(row.active_customers),
        )
        for row in marts.cohorts().itertuples()
    }
    actual = {
        (cohort, offset): (month, observable, size, active)
        for cohort, offset, month, observable, size, active in rows(
            built.pg,
            "select cohort_month, months_since_first_purchase, month_start, is_observable, cohort_size,"
            " active_customers from data_mart.cohort_retention where source_system = 'uci'",
        )
    }
    assert len(expected) == 91  # 13 cohorts, Dec 2010 … Dec 2011: 13 + 12 + … + 1 cells
    assert actual == expected
    assert marts.last_observable_month == date(2011, 11, 1)


@pytest.mark.parametrize(
    ("mart", "item", "method"),
    [("abc_countries", "country", "abc_countries"), ("abc_products", "product_id", "abc_products")],
)
def test_every_abc_class(built: Built, marts: Marts, mart: str, item: str, method: str) -> None:
    frame = getattr(marts, method)()
    expected = {
        row[0]: (row[1], cents(money(row[2])), row[3])
        for row in frame[[item, "abc_class", "revenue", "revenue_rank"]].itertuples(index=False)
    }
    actual = {
        key: (klass, cents(revenue), rank)
        for key, klass, revenue, rank in rows(
            built.pg,
            f"select {item}, abc_class, revenue, revenue_rank from data_mart.{mart} where source_system = 'uci'",
        )
    }
    assert set(actual) == set(expected)
    assert actual == expected
    assert {klass for klass, _, _ in expected.values()} == {"A", "B", "C"}


def test_every_customer_rfm(built: Built, marts: Marts) -> None:
    """Kept apart: customer_rfm lives in the customer marts and is built here, after the sales marts."""
    run_dbt("build", "--select", "+customer_rfm", "--indirect-selection", "cautious", tmp_target=built.dbt_dir)
    rfm = marts.rfm()
    expected = {
        row.customer_id: (int(row.recency_days), int(row.frequency), money(row.monetary)) for row in rfm.itertuples()
    }
    actual = {
        customer: (recency, frequency, monetary)
        for customer, recency, frequency, monetary in rows(
            built.pg,
            "select customer_id, recency_days, frequency, monetary from data_mart.customer_rfm"
            " where source_system = 'uci'",
        )
    }
    assert len(expected) == marts.customer_count()
    assert set(actual) == set(expected)
    assert actual == expected  # exact: monetary compares as Decimal, not just to the cent
    assert rows(built.pg, "select distinct as_of_date from data_mart.customer_rfm") == [(marts.as_of_date,)]
    # the 1-5 scores too: rank-based quantiles, ties share a score, recency inverted; and the segment
    scores = {
        row.customer_id: (int(row.r_score), int(row.f_score), int(row.m_score), row.rfm_segment)
        for row in rfm.itertuples()
    }
    actual_scores = {
        customer: (r, f, m, segment)
        for customer, r, f, m, segment in rows(
            built.pg,
            "select customer_id, r_score, f_score, m_score, rfm_segment from data_mart.customer_rfm"
            " where source_system = 'uci'",
        )
    }
    assert actual_scores == scores
