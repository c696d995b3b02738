"""The whole pipeline: loads → dbt build, incremental runs, reruns, BI access.

These tests run dbt on generated data, so they take a minute or two each.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from pytests.support.db import mart_checksums, rows
from pytests.support.files import correction_of, split_by_date
from pytests.support.runs import run_cli, run_dbt
from segmart.generate import generate_bank, generate_sales

pytestmark = pytest.mark.slow

# the cleaned layer and the audit, with only the tests that need nothing else
AUDIT_ONLY = ("--select", "+sales_line_audit", "+sales_lines", "--indirect-selection", "cautious")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("e2e")
    everything = folder / "all.csv"
    generate_sales(everything, fmt="uci", rows=40_000, customers=900, days=150, seed=21)
    with everything.open(newline="") as handle:
        dates = sorted({row["InvoiceDate"][:10] for row in csv.DictReader(handle)})
    split_by_date(everything, dates[-3], folder / "history.csv", folder / "delta.csv")
    generate_sales(folder / "onec.csv", fmt="onec", rows=6_000, customers=200, days=120, seed=22)
    generate_bank(folder / "bank", clients=2_000, usages=15_000, seed=23)
    return {
        "all": everything,
        "history": folder / "history.csv",
        "delta": folder / "delta.csv",
        "onec": folder / "onec.csv",
        "clients": folder / "bank" / "clients.csv",
        "usage": folder / "bank" / "product_usage.csv",
        "folder": folder,
    }


def test_incremental_run_equals_full_refresh_and_reruns_change_nothing(
    clean_pg, inputs: dict[str, Path], dbt_dir: Path
) -> None:
    pg = clean_pg
    run_cli("sales", str(inputs["history"]), str(inputs["onec"]))
    run_cli("bank", str(inputs["clients"]), str(inputs["usage"]))
    run_dbt("build", tmp_target=dbt_dir)
    before = mart_checksums(pg, build_independent=True)

    # a daily delta and a corrected re-send of three earlier invoices
    corrected = correction_of(inputs["history"], 3, inputs["folder"] / "correction.csv")
    run_cli("sales", str(inputs["delta"]), str(inputs["folder"] / "correction.csv"))
    run_dbt("build", tmp_target=dbt_dir)
    incremental = mart_checksums(pg, build_independent=True)
    assert incremental != before, "the new day and the correction must change the marts"

    for invoice, quantity in corrected.items():
        landed = rows(
            pg,
            "select sum(quantity), count(distinct load_id) from data_mart.sales_lines "
            "where source_system = 'uci' and order_id = %s",
            (invoice,),
        )
        assert landed == [(quantity, 1)], f"invoice {invoice}: the correction must replace, not add"

    run_dbt("build", "--full-refresh", tmp_target=dbt_dir)
    assert mart_checksums(pg, build_independent=True) == incremental

    # everything again: loads are no-ops and a rebuild gives the same tables
    again = run_cli(
        "sales",
        str(inputs["history"]),
        str(inputs["onec"]),
        str(inputs["delta"]),
        str(inputs["folder"] / "correction.csv"),
    )
    assert again.stderr.count("skipped, identical content") == 4
    run_cli("bank", str(inputs["clients"]), str(inputs["usage"]))
    run_dbt("build", tmp_target=dbt_dir)
    assert mart_checksums(pg, build_independent=True) == incremental


SALES_MARTS = (
    "--select",
    "+path:models/marts/sales",
    "+path:models/marts/customers",
    "--indirect-selection",
    "cautious",
)


def test_late_days_and_a_deleted_and_resent_load_keep_incremental_equal_to_full_refresh(
    clean_pg, inputs: dict[str, Path], dbt_dir: Path
) -> None:
    """The incremental line, status and order models never rescan history: they must still follow
    a day that arrives after later ones and a load that is deleted from staging and sent again."""
    pg = clean_pg
    folder = inputs["folder"]
    with inputs["all"].open(newline="") as handle:
        dates = sorted({row["InvoiceDate"][:10] for row in csv.DictReader(handle)})
    early, rest, middle, latest = (folder / f"{name}.csv" for name in ("early", "rest", "middle", "latest"))
    split_by_date(inputs["all"], dates[-12], early, rest)
    split_by_date(rest, dates[-4], middle, latest)

    run_cli("sales", str(early))
    run_dbt("build", *SALES_MARTS, tmp_target=dbt_dir)
    run_cli("sales", str(latest))
    run_dbt("build", *SALES_MARTS, tmp_target=dbt_dir)
    run_cli("sales", str(middle))  # eight days that arrive after the days that follow them
    run_dbt("build", *SALES_MARTS, tmp_target=dbt_dir)
    late = mart_checksums(pg, build_independent=True)
    run_dbt("build", "--full-refresh", *SALES_MARTS, tmp_target=dbt_dir)
    assert mart_checksums(pg, build_independent=True) == late

    # an operator deletes the latest load from staging and lands the file again
    [(latest_load,)] = rows(pg, "select max(load_id) from staging.load_batches where file_name = 'latest.csv'")
    with pg.cursor() as cur:
        cur.execute("delete from staging.sales_uci_lines where load_id = %s", (latest_load,))
        cur.execute("delete from staging.load_batches where load_id = %s", (latest_load,))
    pg.commit()
    resent = run_cli("sales", str(latest))
    assert "latest.csv: uci, load #" in resent.stderr
    run_dbt("build", *SALES_MARTS, tmp_target=dbt_dir)
    incremental = mart_checksums(pg, build_independent=True)
    assert rows(pg, "select distinct source_staged_rows - source_classified_rows from data_mart.sales_line_audit") == [
        (0,)
    ]
    run_dbt("build", "--full-refresh", *SALES_MARTS, tmp_target=dbt_dir)
    assert mart_checksums(pg, build_independent=True) == incremental


def test_bi_role_reads_data_mart_only_and_keeps_access_after_rebuilds(
    clean_pg, inputs: dict[str, Path], dbt_dir: Path, connection_info
) -> None:
    pg = clean_pg
    run_cli("sales", str(inputs["history"]))
    run_dbt("build", *AUDIT_ONLY, tmp_target=dbt_dir)
    login = f"bi_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with pg.cursor() as cur:
        cur.execute(
            sql.SQL("create role {} login password %s in role bi_reader").format(sql.Identifier(login)), (password,)
        )
    pg.commit()
    try:

        def as_bi(query: str):
            conn = psycopg2.connect(**dict(connection_info.dsn_kwargs(), user=login, password=password))
            try:
                with conn.cursor() as cur:
                    cur.execute(query)
                    return cur.fetchall()
            finally:
                conn.close()

        assert as_bi("select count(*) from data_mart.sales_line_audit")[0][0] > 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            as_bi("select count(*) from staging.load_batches")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            as_bi("create table data_mart.not_allowed (x int)")
        run_dbt("build", *AUDIT_ONLY, "--full-refresh", tmp_target=dbt_dir)
        assert as_bi("select count(*) from data_mart.sales_line_audit")[0][0] > 0
        assert as_bi("select count(*) from data_mart.sales_lines")[0][0] > 0
    finally:
        with pg.cursor() as cur:
            cur.execute(sql.SQL("drop role {}").format(sql.Identifier(login)))
        pg.commit()
