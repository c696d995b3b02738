"""The real UCI Online Retail file: every row accounted for, facts from ../shared/data/README.md."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal

import psycopg2.extensions
import pytest

from pytests.support.db import rows, scalar
from pytests.support.files import real_data_or_skip
from pytests.support.runs import run_cli

ROWS = 541_909
WITH_CUSTOMER = 406_829
WITHOUT_CUSTOMER = 135_080
CANCELLATIONS = 9_288


@pytest.mark.slow
def test_real_file_lands_every_row(clean_pg: psycopg2.extensions.connection) -> None:
    path = real_data_or_skip()
    result = run_cli("sales", str(path), timeout=900)
    assert f"{path.name}: uci, load #" in result.stderr

    [(read, loaded, quarantined, file_bytes)] = rows(
        clean_pg, "select rows_read, rows_loaded, rows_quarantined, file_bytes from staging.load_batches"
    )
    assert read == loaded + quarantined == ROWS
    assert file_bytes == 47_100_511  # size of the uncompressed CSV, from the README
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines") == loaded == ROWS
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines where customer_id is not null") == (
        WITH_CUSTOMER
    )
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines where customer_id is null") == (
        WITHOUT_CUSTOMER
    )
    assert scalar(clean_pg, "select count(*) from staging.sales_uci_lines where invoice_no like 'C%%'") == (
        CANCELLATIONS
    )

    expected_total = Decimal(0)
    expected_quantity = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for record in reader:
            expected_quantity += int(record["Quantity"])
            expected_total += int(record["Quantity"]) * Decimal(record["UnitPrice"])
    total, quantity = rows(clean_pg, "select sum(quantity * unit_price), sum(quantity) from staging.sales_uci_lines")[0]
    assert quantity == expected_quantity
    assert total == expected_total
    assert rows(clean_pg, "select min(invoice_date)::text, max(invoice_date)::text from staging.sales_uci_lines") == [
        ("2010-12-01 08:26:00", "2011-12-09 12:50:00")
    ]
