"""Sales marts on a small generated UCI file, checked against the pandas reference.

The file is generated, loaded and built once (``dbt build`` of the sales marts
with their data and unit tests); the checks compare monthly revenue, cohort
sizes and ABC classes with ``pytests/support/reference.py``, which recomputes
them straight from the CSV with the cleaning rules of
``int_sales_lines_classified``, without going through SQL.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg2.extensions
import pytest

from pytests.support.db import rows
from pytests.support.reference import Marts, money
from pytests.support.runs import SALES_MARTS_BUILD, run_cli, run_dbt

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")


def test_sales_marts_match_a_python_computation_from_the_csv(
    clean_pg: psycopg2.extensions.connection, dbt_dir: Path, tmp_path: Path
) -> None:
    csv_path = tmp_path / "uci_small.csv"
    run_cli("generate", "sales", "--rows", "20000", "--customers", "800", "--seed", "5", str(csv_path))
    run_cli("sales", str(csv_path))
    run_dbt(*SALES_MARTS_BUILD, tmp_target=dbt_dir)
    marts = Marts(csv_path)

    check_monthly_revenue(marts, clean_pg)
    check_cohort_sizes(marts, clean_pg)
    check_abc_classes(marts, clean_pg)


def check_monthly_revenue(marts: Marts, pg: psycopg2.extensions.connection) -> None:
    expected = {row.month_start: money(row.revenue) for row in marts.monthly().itertuples()}
    actual = dict(rows(pg, "select month_start, revenue from data_mart.monthly_kpis where source_system = 'uci'"))
    assert set(actual) >= set(expected)
    assert all(actual[month] == 0 for month in set(actual) - set(expected))  # gap months only
    assert {month: actual[month].quantize(CENT) for month in expected} == {
        month: value.quantize(CENT) for month, value in expected.items()
    }


def check_cohort_sizes(marts: Marts, pg: psycopg2.extensions.connection) -> None:
    cohorts = marts.cohorts()
    first_months = cohorts[cohorts["months_since_first_purchase"] == 0]
    expected = dict(zip(first_months["cohort_month"], first_months["cohort_size"], strict=True))
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


def check_abc_classes(marts: Marts, pg: psycopg2.extensions.connection) -> None:
    expected_countries = marts.abc_countries()
    countries = dict(rows(pg, "select country, abc_class from data_mart.abc_countries where source_system = 'uci'"))
    assert countries == dict(zip(expected_countries["country"], expected_countries["abc_class"], strict=True))

    expected_products = marts.abc_products()
    actual_top = rows(
        pg,
        "select product_id, abc_class from data_mart.abc_products"
        " where source_system = 'uci' order by revenue_rank limit 25",
    )
    top = expected_products.sort_values("revenue_rank").head(25)
    assert actual_top == list(zip(top["product_id"], top["abc_class"], strict=True))
    counts = dict(
        rows(pg, "select abc_class, count(*) from data_mart.abc_products where source_system = 'uci' group by 1")
    )
    assert counts == expected_products["abc_class"].value_counts().to_dict()
